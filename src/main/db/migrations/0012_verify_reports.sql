CREATE TABLE `site_verify_records` (
	`client_record_id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`rack_id` text NOT NULL,
	`floor` text NOT NULL,
	`item_code` text NOT NULL,
	`verified` integer NOT NULL,
	`damaged` integer NOT NULL,
	`serials` text DEFAULT '[]' NOT NULL,
	`user` text NOT NULL,
	`station` text NOT NULL,
	`hub_made_at` integer NOT NULL,
	`batch_id` text
);
--> statement-breakpoint
CREATE INDEX `site_verify_records_rack` ON `site_verify_records` (`floor`,`rack_id`,`item_code`);--> statement-breakpoint
CREATE TABLE `verify_compare_rows` (
	`job_id` integer NOT NULL,
	`floor` text NOT NULL,
	`rack_id` text NOT NULL,
	`item_code` text NOT NULL,
	`kind` text NOT NULL,
	`counted_a` integer,
	`counted_b` integer,
	`damaged_a` integer,
	`damaged_b` integer,
	`serials_added` text NOT NULL,
	`serials_removed` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verify_compare_rows_key` ON `verify_compare_rows` (`job_id`,`floor`,`rack_id`,`item_code`);--> statement-breakpoint
CREATE TABLE `verify_snapshot_rows` (
	`snapshot_id` integer NOT NULL,
	`floor` text NOT NULL,
	`rack_id` text NOT NULL,
	`item_code` text NOT NULL,
	`counted` integer NOT NULL,
	`damaged` integer NOT NULL,
	`serials` text NOT NULL,
	`records` integer NOT NULL,
	FOREIGN KEY (`snapshot_id`) REFERENCES `verify_snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verify_snapshot_rows_key` ON `verify_snapshot_rows` (`snapshot_id`,`floor`,`rack_id`,`item_code`);--> statement-breakpoint
CREATE TABLE `verify_snapshots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`floor` text,
	`taken_at` integer NOT NULL,
	`taken_by` text NOT NULL,
	`records` integer NOT NULL,
	`rows` integer NOT NULL
);
--> statement-breakpoint
-- This station's own records the hub already accepted (lines ok) are the site's too.
INSERT OR IGNORE INTO `site_verify_records` (client_record_id, session_id, rack_id, floor, item_code, verified, damaged, serials, user, station, hub_made_at, batch_id)
SELECT l.client_record_id, l.session_id, s.rack_id, s.floor, l.item_code, l.verified, l.damaged, l.serials, s.username,
  coalesce((SELECT json_extract(value, '$.stationName') FROM settings WHERE key = 'hub'), ''), l.hub_made_at, NULL
FROM verify_lines l JOIN verify_sessions s ON s.id = l.session_id WHERE l.status = 'ok';
