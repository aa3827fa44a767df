CREATE TABLE `items` (
	`item_code` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`barcode` text,
	`org` text NOT NULL,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `items_barcode` ON `items` (`barcode`);--> statement-breakpoint
CREATE TABLE `notices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`notice_id` text NOT NULL,
	`text` text NOT NULL,
	`by` text NOT NULL,
	`station` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notices_notice_id_unique` ON `notices` (`notice_id`);--> statement-breakpoint
CREATE TABLE `rack_leases` (
	`resource` text PRIMARY KEY NOT NULL,
	`lease_id` text NOT NULL,
	`user` text NOT NULL,
	`station` text NOT NULL,
	`since` integer NOT NULL,
	`expires_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `racks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rack_id` text NOT NULL,
	`floor` text NOT NULL,
	`name` text,
	`active` integer DEFAULT true NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	`station` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `racks_rack_floor` ON `racks` (`rack_id`,`floor`);--> statement-breakpoint
CREATE TABLE `site_serials` (
	`serial` text PRIMARY KEY NOT NULL,
	`client_record_id` text NOT NULL,
	`rack_id` text NOT NULL,
	`floor` text NOT NULL,
	`station` text NOT NULL,
	`user` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `verify_lines` (
	`client_record_id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`item_code` text NOT NULL,
	`verified` integer NOT NULL,
	`damaged` integer NOT NULL,
	`serials` text DEFAULT '[]' NOT NULL,
	`floor` text NOT NULL,
	`made_at` integer NOT NULL,
	`hub_made_at` integer NOT NULL,
	`lease_id` text,
	`lapsed` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`hub_code` text,
	`hub_reason` text,
	`updated_at` integer NOT NULL,
	`resolved_by` text,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE INDEX `verify_lines_session` ON `verify_lines` (`session_id`);--> statement-breakpoint
CREATE INDEX `verify_lines_status` ON `verify_lines` (`status`);--> statement-breakpoint
CREATE TABLE `verify_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`rack_id` text NOT NULL,
	`floor` text NOT NULL,
	`user_id` integer NOT NULL,
	`username` text NOT NULL,
	`started_at` integer NOT NULL,
	`lease_id` text,
	`lease_expires_at` integer,
	`lapsed_at` integer,
	`lapsed_reason` text,
	`status` text DEFAULT 'open' NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `verify_sessions_status` ON `verify_sessions` (`status`,`user_id`);--> statement-breakpoint
CREATE VIRTUAL TABLE `items_fts` USING fts5(item_code, name, description, content='items', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `items_fts_insert` AFTER INSERT ON `items` BEGIN
  INSERT INTO items_fts (rowid, item_code, name, description) VALUES (new.rowid, new.item_code, new.name, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `items_fts_delete` AFTER DELETE ON `items` BEGIN
  INSERT INTO items_fts (items_fts, rowid, item_code, name, description) VALUES ('delete', old.rowid, old.item_code, old.name, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `items_fts_update` AFTER UPDATE ON `items` BEGIN
  INSERT INTO items_fts (items_fts, rowid, item_code, name, description) VALUES ('delete', old.rowid, old.item_code, old.name, old.description);
  INSERT INTO items_fts (rowid, item_code, name, description) VALUES (new.rowid, new.item_code, new.name, new.description);
END;
