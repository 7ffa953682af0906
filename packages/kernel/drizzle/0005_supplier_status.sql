ALTER TABLE "kernel"."suppliers" ADD COLUMN "status_reason" text;--> statement-breakpoint
ALTER TABLE "kernel"."suppliers" ADD COLUMN "status_code" text;--> statement-breakpoint
ALTER TABLE "kernel"."suppliers" ADD COLUMN "status_changed_at" timestamp with time zone;