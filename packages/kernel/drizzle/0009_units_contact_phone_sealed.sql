-- Units' contact phone is personal data: from now on it is stored sealed (AES-GCM, the
-- deployment's personal-data key) with its masked form; the plain column "contact_phone" is
-- emptied by the kernel at start (the key is not in the database, so SQL cannot seal it).
ALTER TABLE "kernel"."units" ADD COLUMN "contact_phone_sealed" text;--> statement-breakpoint
ALTER TABLE "kernel"."units" ADD COLUMN "contact_phone_masked" text;