CREATE TABLE "users" (
	"username" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"role" text NOT NULL,
	"password_hash" text,
	"pin_hash" text,
	"disabled" boolean DEFAULT false NOT NULL,
	"totp_secret" text,
	"totp_enrolled_at" bigint,
	"updated_at" bigint NOT NULL,
	"station_id" integer NOT NULL,
	"user_name" text NOT NULL,
	"op_id" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- The hub's own row, for what its admin commands put on the feed (npm run hub -- add-user). Its
-- token hash is not a SHA-256 of anything, so no token opens it (src/hub/enrolment.ts HUB_SELF).
INSERT INTO "stations" ("name", "token_hash") VALUES ('hub', 'reserved:hub') ON CONFLICT DO NOTHING;
