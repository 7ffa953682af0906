CREATE SCHEMA "procurement";
--> statement-breakpoint
CREATE TABLE "procurement"."amendments" (
	"id" serial PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"rationale" text NOT NULL,
	"changes" jsonb NOT NULL,
	"amends_release_id" text,
	"release_id" text,
	"date" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procurement"."awards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"lot_id" text NOT NULL,
	"bid_id" uuid,
	"supplier_id" uuid,
	"status" text NOT NULL,
	"value" integer,
	"rank" integer,
	"standstill_end" timestamp with time zone,
	"status_reason" text,
	"date" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procurement"."bids" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"lot_id" text NOT NULL,
	"supplier_id" uuid NOT NULL,
	"status" text NOT NULL,
	"sealed" text NOT NULL,
	"commitment" text NOT NULL,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"withdrawn_at" timestamp with time zone,
	"price" integer,
	"proposal" text,
	"documents" jsonb,
	"nonce" text,
	"status_reason" text
);
--> statement-breakpoint
CREATE TABLE "procurement"."call_offs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"contract_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"cost" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procurement"."contracts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"award_id" uuid NOT NULL,
	"supplier_id" uuid NOT NULL,
	"title" text NOT NULL,
	"value" integer NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"milestones" jsonb NOT NULL,
	"signed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "contracts_award_id_unique" UNIQUE("award_id")
);
--> statement-breakpoint
CREATE TABLE "procurement"."declarations" (
	"project_id" uuid NOT NULL,
	"member" text NOT NULL,
	"conflict" boolean NOT NULL,
	"statement" text NOT NULL,
	"declared_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "declarations_project_id_member_pk" PRIMARY KEY("project_id","member")
);
--> statement-breakpoint
CREATE TABLE "procurement"."enquiries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"supplier_id" uuid NOT NULL,
	"question" text NOT NULL,
	"answer" text,
	"asked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"answered_at" timestamp with time zone,
	"answered_by" text
);
--> statement-breakpoint
CREATE TABLE "procurement"."projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"buyer_unit_id" uuid NOT NULL,
	"region_code" text NOT NULL,
	"region_path" text NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"category" text NOT NULL,
	"method" text NOT NULL,
	"rationale" text,
	"framework" boolean DEFAULT false NOT NULL,
	"estimate" integer NOT NULL,
	"lots" jsonb NOT NULL,
	"items" jsonb NOT NULL,
	"documents" jsonb NOT NULL,
	"invited_supplier_ids" jsonb NOT NULL,
	"panel" jsonb NOT NULL,
	"price_weight" integer NOT NULL,
	"quality_weight" integer NOT NULL,
	"standstill_days" double precision NOT NULL,
	"enquiry_start" timestamp with time zone,
	"enquiry_end" timestamp with time zone NOT NULL,
	"tender_end" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"status_reason" text,
	"published_at" timestamp with time zone,
	"opened_at" timestamp with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procurement"."releases" (
	"project_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"tag" text NOT NULL,
	"date" timestamp with time zone DEFAULT now() NOT NULL,
	"body" jsonb NOT NULL,
	CONSTRAINT "releases_project_id_seq_pk" PRIMARY KEY("project_id","seq")
);
--> statement-breakpoint
CREATE TABLE "procurement"."scores" (
	"bid_id" uuid NOT NULL,
	"member" text NOT NULL,
	"score" integer NOT NULL,
	"comment" text NOT NULL,
	"scored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scores_bid_id_member_pk" PRIMARY KEY("bid_id","member")
);
--> statement-breakpoint
ALTER TABLE "procurement"."amendments" ADD CONSTRAINT "amendments_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."awards" ADD CONSTRAINT "awards_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."awards" ADD CONSTRAINT "awards_bid_id_bids_id_fk" FOREIGN KEY ("bid_id") REFERENCES "procurement"."bids"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."awards" ADD CONSTRAINT "awards_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."bids" ADD CONSTRAINT "bids_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."bids" ADD CONSTRAINT "bids_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."call_offs" ADD CONSTRAINT "call_offs_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "procurement"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."call_offs" ADD CONSTRAINT "call_offs_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "kernel"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."contracts" ADD CONSTRAINT "contracts_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."contracts" ADD CONSTRAINT "contracts_award_id_awards_id_fk" FOREIGN KEY ("award_id") REFERENCES "procurement"."awards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."contracts" ADD CONSTRAINT "contracts_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."declarations" ADD CONSTRAINT "declarations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."enquiries" ADD CONSTRAINT "enquiries_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."enquiries" ADD CONSTRAINT "enquiries_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "kernel"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."projects" ADD CONSTRAINT "projects_buyer_unit_id_units_id_fk" FOREIGN KEY ("buyer_unit_id") REFERENCES "kernel"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."projects" ADD CONSTRAINT "projects_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "kernel"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."releases" ADD CONSTRAINT "releases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "procurement"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procurement"."scores" ADD CONSTRAINT "scores_bid_id_bids_id_fk" FOREIGN KEY ("bid_id") REFERENCES "procurement"."bids"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "amendments_project_idx" ON "procurement"."amendments" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "awards_project_idx" ON "procurement"."awards" USING btree ("project_id","lot_id");--> statement-breakpoint
CREATE INDEX "bids_project_idx" ON "procurement"."bids" USING btree ("project_id","lot_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bids_live_idx" ON "procurement"."bids" USING btree ("project_id","lot_id","supplier_id") WHERE status = 'sealed';--> statement-breakpoint
CREATE INDEX "call_offs_contract_idx" ON "procurement"."call_offs" USING btree ("contract_id");--> statement-breakpoint
CREATE INDEX "contracts_project_idx" ON "procurement"."contracts" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "enquiries_project_idx" ON "procurement"."enquiries" USING btree ("project_id","asked_at");--> statement-breakpoint
CREATE INDEX "projects_region_idx" ON "procurement"."projects" USING btree ("region_path");--> statement-breakpoint
CREATE INDEX "projects_buyer_idx" ON "procurement"."projects" USING btree ("buyer_unit_id","published_at");