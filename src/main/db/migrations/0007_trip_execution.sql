CREATE TABLE `trip_executions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trip_id` integer NOT NULL,
	`status` text NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	`stops_total` integer DEFAULT 0 NOT NULL,
	`stops_done` integer DEFAULT 0 NOT NULL,
	`progress_message` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`failed_stop` integer,
	`started_by` integer,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trip_executions_trip_id_unique` ON `trip_executions` (`trip_id`);--> statement-breakpoint
CREATE TABLE `trip_manifests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`execution_id` integer NOT NULL,
	`stop_number` integer NOT NULL,
	`state` text NOT NULL,
	`fingerprint` text NOT NULL,
	`request` text NOT NULL,
	`manifest_id` text,
	`recovered` integer DEFAULT false NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`execution_id`) REFERENCES `trip_executions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trip_manifests_stop` ON `trip_manifests` (`execution_id`,`stop_number`);