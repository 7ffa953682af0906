CREATE SCHEMA "matching";
--> statement-breakpoint
CREATE TABLE "matching"."ballot_votes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ballot_id" uuid NOT NULL,
	"voter_hash" text NOT NULL,
	"group_key" text NOT NULL,
	"approvals" jsonb NOT NULL,
	"recorded_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matching"."ballots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"title" text NOT NULL,
	"budget" integer NOT NULL,
	"options" jsonb NOT NULL,
	"rule" jsonb NOT NULL,
	"status" text NOT NULL,
	"result" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"opened_at" timestamp with time zone,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "matching"."plan_orders" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"plan_id" uuid NOT NULL,
	"demand_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matching"."plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"run_id" uuid NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"status" text NOT NULL,
	"allocations" jsonb NOT NULL,
	"order_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"skipped" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	CONSTRAINT "plans_run_id_unique" UNIQUE("run_id")
);
--> statement-breakpoint
CREATE TABLE "matching"."runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"status" text NOT NULL,
	"job_id" text,
	"options" jsonb NOT NULL,
	"instance" jsonb NOT NULL,
	"report" jsonb,
	"error" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "matching"."ballot_votes" ADD CONSTRAINT "ballot_votes_ballot_id_ballots_id_fk" FOREIGN KEY ("ballot_id") REFERENCES "matching"."ballots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching"."ballots" ADD CONSTRAINT "ballots_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching"."plan_orders" ADD CONSTRAINT "plan_orders_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "matching"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching"."plans" ADD CONSTRAINT "plans_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "matching"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching"."runs" ADD CONSTRAINT "runs_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ballot_votes_voter" ON "matching"."ballot_votes" USING btree ("ballot_id","voter_hash");--> statement-breakpoint
CREATE INDEX "ballots_path" ON "matching"."ballots" USING btree ("region_path");--> statement-breakpoint
CREATE INDEX "plans_path" ON "matching"."plans" USING btree ("region_path");--> statement-breakpoint
CREATE INDEX "runs_path" ON "matching"."runs" USING btree ("region_path");