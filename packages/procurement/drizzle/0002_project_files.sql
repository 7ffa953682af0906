CREATE TABLE "procurement"."project_files" (
	"file_id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"upload_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "procurement"."project_files" ADD CONSTRAINT "project_files_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "project_files_project_idx" ON "procurement"."project_files" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "project_files_upload_key_idx" ON "procurement"."project_files" USING btree ("upload_key");