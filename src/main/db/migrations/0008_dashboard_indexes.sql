CREATE INDEX `bills_created` ON `bills` (`created_at`);--> statement-breakpoint
CREATE INDEX `bills_finalized` ON `bills` (`finalized_at`);--> statement-breakpoint
CREATE INDEX `jobs_kind_created` ON `jobs` (`kind`,`created_at`);--> statement-breakpoint
CREATE INDEX `scans_at` ON `scans` (`at`);