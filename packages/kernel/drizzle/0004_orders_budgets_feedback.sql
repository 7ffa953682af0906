CREATE TABLE "kernel"."budgets" (
	"region_code" text NOT NULL,
	"year" integer NOT NULL,
	"allocated" bigint NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"spent" bigint DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budgets_region_code_year_pk" PRIMARY KEY("region_code","year")
);
--> statement-breakpoint
CREATE TABLE "kernel"."feedback" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_id" uuid NOT NULL,
	"rating" integer NOT NULL,
	"content" integer,
	"performance" integer,
	"organisation" integer,
	"comment" text,
	"respondent_group" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kernel"."feedback_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kernel"."deliveries" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"delivered_on" date NOT NULL,
	"actual_audience" integer NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"photos" text[] DEFAULT '{}' NOT NULL,
	"reported_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kernel"."orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"unit_id" uuid NOT NULL,
	"region_code" text NOT NULL,
	"product_id" uuid NOT NULL,
	"product_content_version" integer NOT NULL,
	"supplier_id" uuid NOT NULL,
	"venue_id" uuid NOT NULL,
	"window_start" date NOT NULL,
	"window_end" date NOT NULL,
	"expected_audience" integer NOT NULL,
	"cost" integer NOT NULL,
	"budget_year" integer NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"approval_chain" text[] DEFAULT '{}' NOT NULL,
	"approved_steps" integer DEFAULT 0 NOT NULL,
	"reserved_amount" integer DEFAULT 0 NOT NULL,
	"scheduled_on" date,
	"rejection_reason" text,
	"cancellation_reason" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kernel"."budgets" ADD CONSTRAINT "budgets_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."feedback" ADD CONSTRAINT "feedback_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "kernel"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."feedback" ADD CONSTRAINT "feedback_respondent_group_population_groups_key_fk" FOREIGN KEY ("respondent_group") REFERENCES "kernel"."population_groups"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."feedback_tokens" ADD CONSTRAINT "feedback_tokens_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "kernel"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."deliveries" ADD CONSTRAINT "deliveries_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "kernel"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."orders" ADD CONSTRAINT "orders_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "kernel"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."orders" ADD CONSTRAINT "orders_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."orders" ADD CONSTRAINT "orders_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "kernel"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."orders" ADD CONSTRAINT "orders_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kernel"."orders" ADD CONSTRAINT "orders_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "kernel"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feedback_order_idx" ON "kernel"."feedback" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "feedback_tokens_order_idx" ON "kernel"."feedback_tokens" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "orders_region_idx" ON "kernel"."orders" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "orders_supplier_idx" ON "kernel"."orders" USING btree ("supplier_id","id");--> statement-breakpoint
CREATE INDEX "orders_status_idx" ON "kernel"."orders" USING btree ("status","id");