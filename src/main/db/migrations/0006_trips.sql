CREATE TABLE `trip_lines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`stop_id` integer NOT NULL,
	`position` integer NOT NULL,
	`product` text NOT NULL,
	`quantity` real NOT NULL,
	`unit` text NOT NULL,
	FOREIGN KEY (`stop_id`) REFERENCES `trip_stops`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trip_lines_stop` ON `trip_lines` (`stop_id`,`position`);--> statement-breakpoint
CREATE TABLE `trip_packs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trip_id` integer NOT NULL,
	`stop_id` integer NOT NULL,
	`line_id` integer,
	`barcode` text NOT NULL,
	`quantity` real NOT NULL,
	`packed_at` integer NOT NULL,
	`packed_by` integer,
	FOREIGN KEY (`trip_id`) REFERENCES `trips`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`stop_id`) REFERENCES `trip_stops`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`line_id`) REFERENCES `trip_lines`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trip_packs_trip_barcode` ON `trip_packs` (`trip_id`,`barcode`);--> statement-breakpoint
CREATE INDEX `trip_packs_stop` ON `trip_packs` (`stop_id`);--> statement-breakpoint
CREATE INDEX `trip_packs_barcode` ON `trip_packs` (`barcode`);--> statement-breakpoint
CREATE TABLE `trip_stops` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trip_id` integer NOT NULL,
	`position` integer NOT NULL,
	`order_id` integer NOT NULL,
	`invoice` text,
	`delivery_date` text,
	`dispensary` text NOT NULL,
	`address` text DEFAULT '' NOT NULL,
	`vendor_license` text DEFAULT '' NOT NULL,
	`departure_at` integer,
	`arrival_at` integer,
	`route` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`trip_id`) REFERENCES `trips`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trip_stops_trip` ON `trip_stops` (`trip_id`,`position`);--> statement-breakpoint
CREATE INDEX `trip_stops_order` ON `trip_stops` (`order_id`);--> statement-breakpoint
CREATE TABLE `trips` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`number` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`execution_status` text,
	`driver_employee_id` text DEFAULT '' NOT NULL,
	`driver_name` text DEFAULT '' NOT NULL,
	`vehicle_id` text DEFAULT '' NOT NULL,
	`vehicle_name` text DEFAULT '' NOT NULL,
	`created_by` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trips_number_unique` ON `trips` (`number`);--> statement-breakpoint
CREATE INDEX `trips_status` ON `trips` (`status`,`id`);