CREATE TABLE "lease_history" (
	"lease_id" uuid PRIMARY KEY NOT NULL,
	"resource" text NOT NULL,
	"holder_user" text NOT NULL,
	"station_id" integer NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_how" text
);
--> statement-breakpoint
CREATE TABLE "notices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"by_user" text NOT NULL,
	"station_id" integer NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "racks" (
	"floor" text NOT NULL,
	"rack_id" text NOT NULL,
	"name" text,
	"active" boolean NOT NULL,
	"updated_at" bigint NOT NULL,
	"station_id" integer NOT NULL,
	"user_name" text NOT NULL,
	"op_id" text NOT NULL,
	CONSTRAINT "racks_floor_rack_id_pk" PRIMARY KEY("floor","rack_id")
);
--> statement-breakpoint
CREATE TABLE "verify_records" (
	"client_record_id" uuid PRIMARY KEY NOT NULL,
	"station_id" integer NOT NULL,
	"status" text NOT NULL,
	"answer" jsonb NOT NULL,
	"session_id" text NOT NULL,
	"floor" text NOT NULL,
	"rack_id" text NOT NULL,
	"item_code" text NOT NULL,
	"verified" integer NOT NULL,
	"damaged" integer NOT NULL,
	"serial_count" integer NOT NULL,
	"made_at" bigint NOT NULL,
	"hub_made_at" bigint NOT NULL,
	"lease_id" uuid,
	"user_name" text NOT NULL,
	"batch_id" uuid NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verify_serials" (
	"serial" text PRIMARY KEY NOT NULL,
	"client_record_id" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lease_history" ADD CONSTRAINT "lease_history_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notices" ADD CONSTRAINT "notices_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "racks" ADD CONSTRAINT "racks_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_records" ADD CONSTRAINT "verify_records_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_serials" ADD CONSTRAINT "verify_serials_client_record_id_verify_records_client_record_id_fk" FOREIGN KEY ("client_record_id") REFERENCES "public"."verify_records"("client_record_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lease_history_resource" ON "lease_history" USING btree ("resource","claimed_at");--> statement-breakpoint
CREATE INDEX "verify_records_rack" ON "verify_records" USING btree ("floor","rack_id","item_code");--> statement-breakpoint
CREATE INDEX "verify_serials_record" ON "verify_serials" USING btree ("client_record_id");--> statement-breakpoint
-- Leases held when the hub is upgraded get their history row (ended ones before it have none).
INSERT INTO "lease_history" ("lease_id", "resource", "holder_user", "station_id", "claimed_at") SELECT "lease_id", "resource", "holder_user", "holder_station_id", "claimed_at" FROM "leases";
