DROP INDEX "survey"."demand_records_region_idx";--> statement-breakpoint
DROP INDEX "survey"."responses_region_idx";--> statement-breakpoint
ALTER TABLE "survey"."demand_requests" ADD COLUMN "withdrawn_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "survey"."demand_requests" ADD COLUMN "withdrawn_by" text;--> statement-breakpoint
CREATE INDEX "demand_records_path_idx" ON "survey"."demand_records" USING btree ("region_path" collate "C");--> statement-breakpoint
CREATE INDEX "responses_completed_path_idx" ON "survey"."responses" USING btree ("region_path" collate "C") WHERE "survey"."responses"."status" = 'completed';