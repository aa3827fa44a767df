CREATE TABLE `bag_links` (
	`child_id` integer PRIMARY KEY NOT NULL,
	`parent_id` integer NOT NULL,
	`linked_at` integer NOT NULL,
	`linked_by` integer,
	`scan_id` integer,
	FOREIGN KEY (`child_id`) REFERENCES `bags`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`parent_id`) REFERENCES `bags`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `bag_links_parent` ON `bag_links` (`parent_id`,`linked_at`);--> statement-breakpoint
CREATE TABLE `bags` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` integer,
	`station_id` text NOT NULL,
	`origin` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bags_code_unique` ON `bags` (`code`);--> statement-breakpoint
CREATE INDEX `bags_created` ON `bags` (`created_at`);--> statement-breakpoint
CREATE INDEX `bags_creator_created` ON `bags` (`created_by`,`created_at`);--> statement-breakpoint
CREATE TABLE `bill_parents` (
	`parent_id` integer PRIMARY KEY NOT NULL,
	`bill_id` integer NOT NULL,
	`added_at` integer NOT NULL,
	`added_by` integer,
	FOREIGN KEY (`parent_id`) REFERENCES `bags`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`bill_id`) REFERENCES `bills`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `bill_parents_bill` ON `bill_parents` (`bill_id`,`added_at`);--> statement-breakpoint
CREATE TABLE `bills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`number` text NOT NULL,
	`status` text NOT NULL,
	`note` text,
	`kg_per_child` real,
	`total_children` integer,
	`created_at` integer NOT NULL,
	`created_by` integer,
	`finalized_at` integer,
	`finalized_by` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bills_number_unique` ON `bills` (`number`);--> statement-breakpoint
CREATE INDEX `bills_status` ON `bills` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `scans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`user_id` integer,
	`station_id` text NOT NULL,
	`source` text NOT NULL,
	`device` text,
	`raw` text NOT NULL,
	`code` text,
	`result` text NOT NULL,
	`message` text NOT NULL,
	`parent_id` integer,
	`child_id` integer,
	`created_child` integer DEFAULT false NOT NULL,
	`undone_at` integer,
	`undone_by` integer
);
--> statement-breakpoint
CREATE INDEX `scans_user_at` ON `scans` (`user_id`,`at`);--> statement-breakpoint
CREATE INDEX `scans_code` ON `scans` (`code`);--> statement-breakpoint
CREATE INDEX `scans_parent` ON `scans` (`parent_id`);