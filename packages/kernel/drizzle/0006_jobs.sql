CREATE TABLE "kernel"."jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"plugin" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"progress" smallint DEFAULT 0 NOT NULL,
	"message" text,
	"result" jsonb,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"owner_id" text,
	"region_path" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_state_check" CHECK ("kernel"."jobs"."state" in ('queued', 'active', 'retry', 'completed', 'failed', 'cancelled')),
	CONSTRAINT "jobs_progress_check" CHECK ("kernel"."jobs"."progress" between 0 and 100)
);
--> statement-breakpoint
CREATE INDEX "jobs_created_idx" ON "kernel"."jobs" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "jobs_owner_idx" ON "kernel"."jobs" USING btree ("owner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "jobs_region_idx" ON "kernel"."jobs" USING btree ("region_path" collate "C","created_at","id");