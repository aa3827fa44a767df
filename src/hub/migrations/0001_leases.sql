CREATE TABLE "leases" (
	"resource" text PRIMARY KEY NOT NULL,
	"lease_id" uuid NOT NULL,
	"holder_user" text NOT NULL,
	"holder_station_id" integer NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"renewed_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ttl_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "presence" (
	"user_name" text NOT NULL,
	"station_id" integer NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "presence_user_name_station_id_pk" PRIMARY KEY("user_name","station_id")
);
--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_holder_station_id_stations_id_fk" FOREIGN KEY ("holder_station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "presence" ADD CONSTRAINT "presence_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "leases_expires" ON "leases" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "presence_expires" ON "presence" USING btree ("expires_at");