CREATE TABLE `upstream_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`upstream` text NOT NULL,
	`fetched_at` integer NOT NULL,
	`value` text NOT NULL
);
