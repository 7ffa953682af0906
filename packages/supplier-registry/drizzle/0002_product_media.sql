CREATE TABLE "supplier_registry"."product_media" (
	"file_id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"content_type" text NOT NULL,
	"name" text NOT NULL,
	"size" integer NOT NULL,
	"sha256" text NOT NULL,
	"caption" text,
	"position" integer NOT NULL,
	"upload_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "supplier_registry"."product_media" ADD CONSTRAINT "product_media_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "kernel"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "product_media_product_idx" ON "supplier_registry"."product_media" USING btree ("product_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "product_media_upload_key_idx" ON "supplier_registry"."product_media" USING btree ("upload_key");