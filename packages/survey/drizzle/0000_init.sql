CREATE SCHEMA "survey";
--> statement-breakpoint
CREATE TABLE "survey"."definitions" (
	"questionnaire_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"json" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "definitions_questionnaire_id_number_pk" PRIMARY KEY("questionnaire_id","number")
);
--> statement-breakpoint
CREATE TABLE "survey"."demand_records" (
	"id" serial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"questionnaire_id" uuid,
	"response_id" uuid,
	"event_id" text,
	"seq" integer,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"group_key" text NOT NULL,
	"category" text NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"period" text NOT NULL,
	"weight" real NOT NULL
);
--> statement-breakpoint
CREATE TABLE "survey"."imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"status" text NOT NULL,
	"csv" text NOT NULL,
	"rows" integer DEFAULT 0 NOT NULL,
	"imported" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"job_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "survey"."invitations" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"used" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "survey"."questionnaires" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"status" text NOT NULL,
	"current_version" integer DEFAULT 1 NOT NULL,
	"published_version" integer,
	"opens_at" timestamp with time zone,
	"closes_at" timestamp with time zone,
	"target_regions" text[] DEFAULT '{}' NOT NULL,
	"target_groups" text[] DEFAULT '{}' NOT NULL,
	"invitation_only" boolean DEFAULT false NOT NULL,
	"created_by" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "questionnaires_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "survey"."quotas" (
	"id" serial PRIMARY KEY NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"region_code" text,
	"region_path" text,
	"group_key" text,
	"age_band" text,
	"limit" integer NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "survey"."responses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"questionnaire_id" uuid NOT NULL,
	"definition_version" integer NOT NULL,
	"status" text NOT NULL,
	"answers" jsonb NOT NULL,
	"region_code" text,
	"region_path" text,
	"group_key" text,
	"age_band" text,
	"language" text,
	"source" text NOT NULL,
	"resume_token_hash" text,
	"day" date NOT NULL,
	CONSTRAINT "responses_resume_token_hash_unique" UNIQUE("resume_token_hash")
);
--> statement-breakpoint
ALTER TABLE "survey"."definitions" ADD CONSTRAINT "definitions_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."demand_records" ADD CONSTRAINT "demand_records_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."demand_records" ADD CONSTRAINT "demand_records_response_id_responses_id_fk" FOREIGN KEY ("response_id") REFERENCES "survey"."responses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."imports" ADD CONSTRAINT "imports_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."invitations" ADD CONSTRAINT "invitations_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."questionnaires" ADD CONSTRAINT "questionnaires_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."quotas" ADD CONSTRAINT "quotas_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey"."responses" ADD CONSTRAINT "responses_questionnaire_id_questionnaires_id_fk" FOREIGN KEY ("questionnaire_id") REFERENCES "survey"."questionnaires"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "demand_records_region_idx" ON "survey"."demand_records" USING btree ("region_path");--> statement-breakpoint
CREATE UNIQUE INDEX "demand_records_event_idx" ON "survey"."demand_records" USING btree ("event_id","seq");--> statement-breakpoint
CREATE INDEX "invitations_questionnaire_idx" ON "survey"."invitations" USING btree ("questionnaire_id");--> statement-breakpoint
CREATE INDEX "questionnaires_region_idx" ON "survey"."questionnaires" USING btree ("region_path");--> statement-breakpoint
CREATE INDEX "responses_questionnaire_idx" ON "survey"."responses" USING btree ("questionnaire_id","status");--> statement-breakpoint
CREATE INDEX "responses_region_idx" ON "survey"."responses" USING btree ("region_path");