CREATE SCHEMA "venues";
--> statement-breakpoint
CREATE TABLE "venues"."citizen_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"citizen_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."citizens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone_hash" text NOT NULL,
	"phone_sealed" text NOT NULL,
	"phone_masked" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "citizens_phone_hash_unique" UNIQUE("phone_hash")
);
--> statement-breakpoint
CREATE TABLE "venues"."equipment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"venue_id" uuid NOT NULL,
	"room_id" uuid,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"quantity" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."equipment_uses" (
	"id" serial PRIMARY KEY NOT NULL,
	"equipment_id" uuid NOT NULL,
	"session_id" uuid,
	"used_on" date NOT NULL,
	"hours" integer NOT NULL,
	"purpose" text NOT NULL,
	"recorded_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."holiday_years" (
	"year" smallint PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."holidays" (
	"day" date PRIMARY KEY NOT NULL,
	"year" smallint NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"as_weekday" smallint
);
--> statement-breakpoint
CREATE TABLE "venues"."hour_changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"venue_id" uuid NOT NULL,
	"changed_by" text NOT NULL,
	"reason" text NOT NULL,
	"before" jsonb NOT NULL,
	"after" jsonb NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."hour_exceptions" (
	"id" serial PRIMARY KEY NOT NULL,
	"venue_id" uuid NOT NULL,
	"day" date NOT NULL,
	"intervals" jsonb NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."otp_challenges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone_hash" text NOT NULL,
	"phone_sealed" text NOT NULL,
	"code_hash" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."processed_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"outcome" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."profiles" (
	"venue_id" uuid PRIMARY KEY NOT NULL,
	"network_role" text,
	"main_venue_id" uuid,
	"description" text DEFAULT '' NOT NULL,
	"on_holiday" text DEFAULT 'sunday' NOT NULL,
	"on_make_up_day" text DEFAULT 'workday' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid NOT NULL,
	"citizen_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"group_name" text,
	"status" text NOT NULL,
	"code" text NOT NULL,
	"waitlist_entry_id" integer,
	"checked_in_at" timestamp with time zone,
	"checked_in_by" text,
	"cancelled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "venues"."rooms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"venue_id" uuid NOT NULL,
	"name" text NOT NULL,
	"capacity" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"venue_id" uuid NOT NULL,
	"room_id" uuid,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"order_id" uuid,
	"source" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"capacity" integer NOT NULL,
	"confirmed" integer DEFAULT 0 NOT NULL,
	"held" integer DEFAULT 0 NOT NULL,
	"booking_opens_at" timestamp with time zone NOT NULL,
	"booking_closes_at" timestamp with time zone NOT NULL,
	"check_in_opens_at" timestamp with time zone NOT NULL,
	"check_in_closes_at" timestamp with time zone NOT NULL,
	"cancel_until_minutes" integer NOT NULL,
	"per_citizen_limit" integer NOT NULL,
	"audience_groups" text[] NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_order_id_unique" UNIQUE("order_id")
);
--> statement-breakpoint
CREATE TABLE "venues"."waitlist" (
	"id" serial PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"citizen_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"status" text NOT NULL,
	"offer_expires_at" timestamp with time zone,
	"reservation_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."weekly_hours" (
	"id" serial PRIMARY KEY NOT NULL,
	"venue_id" uuid NOT NULL,
	"weekday" smallint NOT NULL,
	"opens" text NOT NULL,
	"closes" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "venues"."citizen_tokens" ADD CONSTRAINT "citizen_tokens_citizen_id_citizens_id_fk" FOREIGN KEY ("citizen_id") REFERENCES "venues"."citizens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."equipment" ADD CONSTRAINT "equipment_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."equipment" ADD CONSTRAINT "equipment_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "venues"."rooms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."equipment_uses" ADD CONSTRAINT "equipment_uses_equipment_id_equipment_id_fk" FOREIGN KEY ("equipment_id") REFERENCES "venues"."equipment"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."hour_changes" ADD CONSTRAINT "hour_changes_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."hour_exceptions" ADD CONSTRAINT "hour_exceptions_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."profiles" ADD CONSTRAINT "profiles_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD CONSTRAINT "reservations_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "venues"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD CONSTRAINT "reservations_citizen_id_citizens_id_fk" FOREIGN KEY ("citizen_id") REFERENCES "venues"."citizens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."rooms" ADD CONSTRAINT "rooms_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."sessions" ADD CONSTRAINT "sessions_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."sessions" ADD CONSTRAINT "sessions_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "venues"."rooms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."waitlist" ADD CONSTRAINT "waitlist_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "venues"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."waitlist" ADD CONSTRAINT "waitlist_citizen_id_citizens_id_fk" FOREIGN KEY ("citizen_id") REFERENCES "venues"."citizens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."weekly_hours" ADD CONSTRAINT "weekly_hours_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "equipment_venue_idx" ON "venues"."equipment" USING btree ("venue_id");--> statement-breakpoint
CREATE INDEX "equipment_uses_equipment_idx" ON "venues"."equipment_uses" USING btree ("equipment_id","id");--> statement-breakpoint
CREATE INDEX "holidays_year_idx" ON "venues"."holidays" USING btree ("year");--> statement-breakpoint
CREATE INDEX "hour_changes_venue_idx" ON "venues"."hour_changes" USING btree ("venue_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "hour_exceptions_venue_day_idx" ON "venues"."hour_exceptions" USING btree ("venue_id","day");--> statement-breakpoint
CREATE INDEX "otp_challenges_phone_idx" ON "venues"."otp_challenges" USING btree ("phone_hash","created_at");--> statement-breakpoint
CREATE INDEX "reservations_session_idx" ON "venues"."reservations" USING btree ("session_id","status");--> statement-breakpoint
CREATE INDEX "reservations_citizen_idx" ON "venues"."reservations" USING btree ("citizen_id","created_at");--> statement-breakpoint
CREATE INDEX "rooms_venue_idx" ON "venues"."rooms" USING btree ("venue_id");--> statement-breakpoint
CREATE INDEX "sessions_venue_idx" ON "venues"."sessions" USING btree ("venue_id","starts_at");--> statement-breakpoint
CREATE INDEX "sessions_starts_idx" ON "venues"."sessions" USING btree ("starts_at","id");--> statement-breakpoint
CREATE INDEX "waitlist_session_idx" ON "venues"."waitlist" USING btree ("session_id","status","id");--> statement-breakpoint
CREATE INDEX "waitlist_offer_idx" ON "venues"."waitlist" USING btree ("status","offer_expires_at");--> statement-breakpoint
CREATE INDEX "weekly_hours_venue_idx" ON "venues"."weekly_hours" USING btree ("venue_id","weekday");