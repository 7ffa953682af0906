CREATE TABLE "kernel"."product_versions" (
	"product_id" uuid NOT NULL,
	"content_version" integer NOT NULL,
	"content" jsonb NOT NULL,
	"saved_by" text NOT NULL,
	"saved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_versions_product_id_content_version_pk" PRIMARY KEY("product_id","content_version")
);
--> statement-breakpoint
CREATE TABLE "kernel"."products" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"supplier_id" uuid NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"description" text NOT NULL,
	"category" text NOT NULL,
	"form" text NOT NULL,
	"target_groups" text[] NOT NULL,
	"audience_min" integer NOT NULL,
	"audience_max" integer NOT NULL,
	"duration_minutes" integer NOT NULL,
	"cost_per_session" integer NOT NULL,
	"serviceable_regions" text[] NOT NULL,
	"tags" text[] NOT NULL,
	"media" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rejection_reasons" text[],
	"version" integer DEFAULT 1 NOT NULL,
	"content_version" integer DEFAULT 1 NOT NULL,
	"listed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kernel"."product_versions" ADD CONSTRAINT "product_versions_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "kernel"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."products" ADD CONSTRAINT "products_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."products" ADD CONSTRAINT "products_category_categories_key_fk" FOREIGN KEY ("category") REFERENCES "kernel"."categories"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "products_status_idx" ON "kernel"."products" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "products_supplier_idx" ON "kernel"."products" USING btree ("supplier_id","id");--> statement-breakpoint
CREATE INDEX "products_category_idx" ON "kernel"."products" USING btree ("category","id");--> statement-breakpoint
CREATE INDEX "products_groups_idx" ON "kernel"."products" USING gin ("target_groups");--> statement-breakpoint
CREATE INDEX "products_regions_idx" ON "kernel"."products" USING gin ("serviceable_regions");--> statement-breakpoint
CREATE INDEX "products_listed_idx" ON "kernel"."products" USING btree ("id") WHERE "kernel"."products"."status" = 'listed';