CREATE SCHEMA "supplier_registry";
--> statement-breakpoint
CREATE TABLE "supplier_registry"."application_files" (
	"file_id" uuid PRIMARY KEY NOT NULL,
	"application_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."applications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"region_code" text NOT NULL,
	"credit_code" text,
	"id_number_hash" text,
	"id_number_last4" text,
	"description" text DEFAULT '' NOT NULL,
	"categories" text[] NOT NULL,
	"regions_served" text[] NOT NULL,
	"reasons" text[] DEFAULT '{}' NOT NULL,
	"status_reason" text,
	"suspended_for" text,
	"blacklisted_until" date,
	"supplier_id" uuid,
	"created_by" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."citizen_feedback" (
	"event_id" text PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"supplier_id" uuid NOT NULL,
	"rating" smallint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."contacts" (
	"id" serial PRIMARY KEY NOT NULL,
	"application_id" uuid NOT NULL,
	"name_sealed" text NOT NULL,
	"phone_sealed" text NOT NULL,
	"phone_hash" text NOT NULL,
	"name_masked" text NOT NULL,
	"phone_masked" text NOT NULL,
	"title" text DEFAULT '' NOT NULL,
	"position" smallint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."qualifications" (
	"id" serial PRIMARY KEY NOT NULL,
	"application_id" uuid NOT NULL,
	"type" text NOT NULL,
	"number" text NOT NULL,
	"issuer" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_until" date,
	"mandatory" boolean DEFAULT false NOT NULL,
	"file_id" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"warned_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."ratings" (
	"id" serial PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"supplier_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"punctuality" smallint NOT NULL,
	"quality" smallint NOT NULL,
	"cooperation" smallint NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"rated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ratings_order_id_unique" UNIQUE("order_id")
);
--> statement-breakpoint
CREATE TABLE "supplier_registry"."scores" (
	"supplier_id" uuid PRIMARY KEY NOT NULL,
	"score" real,
	"unit_ratings" integer NOT NULL,
	"citizen_ratings" integer NOT NULL,
	"tier" text NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "supplier_registry"."application_files" ADD CONSTRAINT "application_files_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "supplier_registry"."applications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."applications" ADD CONSTRAINT "applications_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."applications" ADD CONSTRAINT "applications_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."contacts" ADD CONSTRAINT "contacts_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "supplier_registry"."applications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."qualifications" ADD CONSTRAINT "qualifications_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "supplier_registry"."applications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."ratings" ADD CONSTRAINT "ratings_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "kernel"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."ratings" ADD CONSTRAINT "ratings_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."ratings" ADD CONSTRAINT "ratings_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "kernel"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_registry"."scores" ADD CONSTRAINT "scores_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "application_files_application_idx" ON "supplier_registry"."application_files" USING btree ("application_id");--> statement-breakpoint
CREATE INDEX "applications_status_idx" ON "supplier_registry"."applications" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "applications_created_by_idx" ON "supplier_registry"."applications" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "applications_credit_code_idx" ON "supplier_registry"."applications" USING btree ("credit_code");--> statement-breakpoint
CREATE INDEX "applications_id_number_idx" ON "supplier_registry"."applications" USING btree ("id_number_hash");--> statement-breakpoint
CREATE INDEX "citizen_feedback_supplier_idx" ON "supplier_registry"."citizen_feedback" USING btree ("supplier_id");--> statement-breakpoint
CREATE INDEX "contacts_application_idx" ON "supplier_registry"."contacts" USING btree ("application_id","position");--> statement-breakpoint
CREATE INDEX "qualifications_application_idx" ON "supplier_registry"."qualifications" USING btree ("application_id");--> statement-breakpoint
CREATE INDEX "qualifications_until_idx" ON "supplier_registry"."qualifications" USING btree ("valid_until");--> statement-breakpoint
CREATE INDEX "ratings_supplier_idx" ON "supplier_registry"."ratings" USING btree ("supplier_id","id");