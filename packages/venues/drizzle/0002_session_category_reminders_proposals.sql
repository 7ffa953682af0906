CREATE TABLE "venues"."hour_proposals" (
	"id" serial PRIMARY KEY NOT NULL,
	"venue_id" uuid NOT NULL,
	"weekly" jsonb NOT NULL,
	"reason" text NOT NULL,
	"basis" jsonb NOT NULL,
	"proposed_by" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"hour_change_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "venues"."reservations" ADD COLUMN "reminded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "venues"."sessions" ADD COLUMN "category" text;--> statement-breakpoint
ALTER TABLE "venues"."sessions" ADD COLUMN "demand_signalled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "venues"."hour_proposals" ADD CONSTRAINT "hour_proposals_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hour_proposals_venue_idx" ON "venues"."hour_proposals" USING btree ("venue_id","id");--> statement-breakpoint
-- Sessions made from orders before categories existed take their product's (programme sessions stay uncategorised until staff set one).
UPDATE "venues"."sessions" AS s SET "category" = p."category" FROM "kernel"."orders" AS o JOIN "kernel"."products" AS p ON p."id" = o."product_id" WHERE s."order_id" = o."id" AND s."category" IS NULL;
