-- Change notifications for the broker's in-process caches (src/vault/store/postgres.ts listens): any write to
-- connections (refresh, logout, needs_reauth, delete, key rotation) notifies channel webex_auth_changes with the
-- table's schema as payload, so every instance drops what it cached from this schema. One notification per
-- statement (PostgreSQL also folds duplicates within a transaction); it is delivered when the transaction commits.
CREATE OR REPLACE FUNCTION webex_auth_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('webex_auth_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS connections_notify_change ON connections;
CREATE TRIGGER connections_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON connections
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();
