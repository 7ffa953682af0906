-- Units' contact name is personal data too: from now on it is stored sealed (AES-GCM, the
-- deployment's personal-data key) with its masked form (张**); the plain column "contact_name" is
-- emptied by the kernel at start, as 0009 did for the phone.
ALTER TABLE "kernel"."units" ADD COLUMN "contact_name_sealed" text;--> statement-breakpoint
ALTER TABLE "kernel"."units" ADD COLUMN "contact_name_masked" text;