CREATE SCHEMA "notice_board";
--> statement-breakpoint
CREATE TABLE "notice_board"."notices" (
	"id" serial PRIMARY KEY NOT NULL,
	"region_code" text NOT NULL,
	"body" text NOT NULL,
	"posted_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notice_board"."notices" ADD CONSTRAINT "notices_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notices_region_idx" ON "notice_board"."notices" USING btree ("region_code","id");