CREATE TABLE "survey"."demand_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"unit_id" uuid NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"group_key" text NOT NULL,
	"category" text NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"period" text NOT NULL,
	"expected_audience" integer NOT NULL,
	"weight" real NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "survey"."demand_records" ADD COLUMN "request_id" uuid;--> statement-breakpoint
ALTER TABLE "survey"."demand_records" ADD COLUMN "unit_id" uuid;--> statement-breakpoint
ALTER TABLE "survey"."imports" ADD COLUMN "csv_cleared_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "survey"."questionnaires" ADD COLUMN "public_results" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "survey"."demand_requests" ADD CONSTRAINT "demand_requests_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "kernel"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "demand_requests_region_idx" ON "survey"."demand_requests" USING btree ("region_path");--> statement-breakpoint
CREATE INDEX "demand_requests_unit_idx" ON "survey"."demand_requests" USING btree ("unit_id");--> statement-breakpoint
ALTER TABLE "survey"."demand_records" ADD CONSTRAINT "demand_records_request_id_demand_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "survey"."demand_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "demand_records_period_idx" ON "survey"."demand_records" USING btree ("period");