CREATE SCHEMA "reporting";
--> statement-breakpoint
CREATE TABLE "reporting"."reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"year" integer NOT NULL,
	"locale" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"job_id" text,
	"html" text,
	"data" jsonb,
	"csv" text,
	"error" text,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "reporting"."reports" ADD CONSTRAINT "reports_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reports_region_idx" ON "reporting"."reports" USING btree ("region_path","created_at");