CREATE SCHEMA "kernel";
--> statement-breakpoint
CREATE TABLE "kernel"."categories" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_en" text NOT NULL,
	"description" text,
	"position" integer NOT NULL,
	"builtin" boolean NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kernel"."population_groups" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_en" text NOT NULL,
	"description" text,
	"position" integer NOT NULL,
	"builtin" boolean NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kernel"."regions" (
	"code" text PRIMARY KEY NOT NULL,
	"parent_code" text,
	"level" text NOT NULL,
	"depth" integer NOT NULL,
	"path" text NOT NULL,
	"name" text NOT NULL,
	"population" integer,
	"centroid_lat" double precision,
	"centroid_lng" double precision,
	"geometry" jsonb,
	"synthetic" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kernel"."regions" ADD CONSTRAINT "regions_parent_code_regions_code_fk" FOREIGN KEY ("parent_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "regions_parent_idx" ON "kernel"."regions" USING btree ("parent_code","code");--> statement-breakpoint
CREATE INDEX "regions_path_idx" ON "kernel"."regions" USING btree ("path" collate "C");--> statement-breakpoint
CREATE INDEX "regions_level_idx" ON "kernel"."regions" USING btree ("level","code");