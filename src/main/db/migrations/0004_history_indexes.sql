DROP INDEX `outbox_due`;--> statement-breakpoint
CREATE INDEX `outbox_pending` ON `outbox` (`upstream`,`seq`) WHERE "outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX `outbox_stuck` ON `outbox` (`seq`) WHERE "outbox"."status" = 'error';--> statement-breakpoint
CREATE INDEX `outbox_acknowledged` ON `outbox` (`updated_at`) WHERE "outbox"."status" IN ('done', 'conflict');--> statement-breakpoint
CREATE INDEX `scans_user_station` ON `scans` (`user_id`,`station_id`,`id`);