CREATE TABLE `site_bill_parents` (
	`parent_code` text PRIMARY KEY NOT NULL,
	`station` text NOT NULL,
	`bill_number` text NOT NULL,
	`finalized_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `site_conflicts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`op_id` text NOT NULL,
	`op` text NOT NULL,
	`child` text DEFAULT '' NOT NULL,
	`parent` text,
	`winner` text,
	`message` text NOT NULL,
	`by` text NOT NULL,
	`at` integer NOT NULL,
	`detected_at` integer NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`resolved_by` text,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `site_conflicts_op_child` ON `site_conflicts` (`op_id`,`child`);--> statement-breakpoint
CREATE INDEX `site_conflicts_open` ON `site_conflicts` (`status`,`id`);--> statement-breakpoint
ALTER TABLE `bag_links` ADD `site_station` text;--> statement-breakpoint
ALTER TABLE `bag_links` ADD `site_user` text;