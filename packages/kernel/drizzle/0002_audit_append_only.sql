-- The audit log is append-only: refuse UPDATE, DELETE and TRUNCATE outright.
CREATE FUNCTION "kernel"."audit_log_is_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kernel.audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "kernel"."audit_log"
  FOR EACH ROW EXECUTE FUNCTION "kernel"."audit_log_is_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "kernel"."audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "kernel"."audit_log_is_append_only"();
