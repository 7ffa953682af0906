ALTER TABLE "venues"."sessions" ADD COLUMN "waiting" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "waitlist_citizen_idx" ON "venues"."waitlist" USING btree ("citizen_id","session_id");--> statement-breakpoint
-- The waiting lists as they stand.
UPDATE "venues"."sessions" AS s SET "waiting" = (SELECT count(*)::int FROM "venues"."waitlist" AS w WHERE w."session_id" = s."id" AND w."status" = 'waiting');
