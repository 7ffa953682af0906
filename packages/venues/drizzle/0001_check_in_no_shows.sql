CREATE TABLE "venues"."citizen_blocks" (
	"id" serial PRIMARY KEY NOT NULL,
	"citizen_id" uuid NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"reservation_ids" uuid[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues"."offline_scans" (
	"id" serial PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"reservation_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"scanned_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"uploaded_by" text NOT NULL,
	"uploaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD COLUMN "checked_in_via" text;--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD COLUMN "checked_in_device" text;--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD COLUMN "no_show_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "venues"."sessions" ADD COLUMN "no_shows_released_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "venues"."citizen_blocks" ADD CONSTRAINT "citizen_blocks_citizen_id_citizens_id_fk" FOREIGN KEY ("citizen_id") REFERENCES "venues"."citizens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "venues"."offline_scans" ADD CONSTRAINT "offline_scans_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "venues"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "citizen_blocks_citizen_idx" ON "venues"."citizen_blocks" USING btree ("citizen_id","ends_at");--> statement-breakpoint
CREATE UNIQUE INDEX "offline_scans_once_idx" ON "venues"."offline_scans" USING btree ("reservation_id","device_id","scanned_at");--> statement-breakpoint
CREATE INDEX "offline_scans_session_idx" ON "venues"."offline_scans" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "reservations_no_show_idx" ON "venues"."reservations" USING btree ("citizen_id","no_show_at");