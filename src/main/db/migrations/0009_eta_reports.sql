CREATE TABLE `eta_customers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`report_id` text NOT NULL,
	`display_name` text NOT NULL,
	`dd_name` text,
	`dd_kind` text,
	`cbr_name` text,
	`cbr_kind` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `eta_customers_report_id` ON `eta_customers` (`report_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `eta_customers_display_name` ON `eta_customers` (`display_name`);--> statement-breakpoint
CREATE TABLE `eta_statuses` (
	`status` text PRIMARY KEY NOT NULL,
	`display_name` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`updated_at` integer NOT NULL
);
