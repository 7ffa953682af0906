CREATE TABLE "kernel"."files" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "files_owner_idx" ON "kernel"."files" USING btree ("owner","created_at");--> statement-breakpoint
CREATE INDEX "files_sha256_idx" ON "kernel"."files" USING btree ("sha256");