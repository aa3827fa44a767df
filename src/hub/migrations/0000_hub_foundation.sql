CREATE TABLE "bag_links" (
	"child_code" text PRIMARY KEY NOT NULL,
	"parent_code" text NOT NULL,
	"station_id" integer NOT NULL,
	"user_name" text NOT NULL,
	"at" bigint NOT NULL,
	"op_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bags" (
	"code" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"station_id" integer NOT NULL,
	"user_name" text NOT NULL,
	"at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bill_parents" (
	"parent_code" text PRIMARY KEY NOT NULL,
	"station_id" integer NOT NULL,
	"bill_number" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bills" (
	"station_id" integer NOT NULL,
	"number" text NOT NULL,
	"summary" jsonb NOT NULL,
	"user_name" text NOT NULL,
	"at" bigint NOT NULL,
	"op_id" text NOT NULL,
	CONSTRAINT "bills_station_id_number_pk" PRIMARY KEY("station_id","number")
);
--> statement-breakpoint
CREATE TABLE "enrolment_codes" (
	"id" serial PRIMARY KEY NOT NULL,
	"code_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"station_id" integer,
	CONSTRAINT "enrolment_codes_code_hash_unique" UNIQUE("code_hash")
);
--> statement-breakpoint
CREATE TABLE "feed" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"op_id" text NOT NULL,
	"op" text NOT NULL,
	"payload" jsonb NOT NULL,
	"station_id" integer NOT NULL,
	"user_name" text NOT NULL,
	"at" bigint NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feed_op_id_unique" UNIQUE("op_id")
);
--> statement-breakpoint
CREATE TABLE "received_ops" (
	"op_id" text PRIMARY KEY NOT NULL,
	"station_id" integer NOT NULL,
	"op" text NOT NULL,
	"status" text NOT NULL,
	"answer" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stations" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "stations_name_unique" UNIQUE("name"),
	CONSTRAINT "stations_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "bag_links" ADD CONSTRAINT "bag_links_child_code_bags_code_fk" FOREIGN KEY ("child_code") REFERENCES "public"."bags"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bag_links" ADD CONSTRAINT "bag_links_parent_code_bags_code_fk" FOREIGN KEY ("parent_code") REFERENCES "public"."bags"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bag_links" ADD CONSTRAINT "bag_links_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bags" ADD CONSTRAINT "bags_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bills" ADD CONSTRAINT "bills_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrolment_codes" ADD CONSTRAINT "enrolment_codes_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed" ADD CONSTRAINT "feed_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "received_ops" ADD CONSTRAINT "received_ops_station_id_stations_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."stations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bag_links_parent" ON "bag_links" USING btree ("parent_code");--> statement-breakpoint
CREATE INDEX "bill_parents_bill" ON "bill_parents" USING btree ("station_id","bill_number");