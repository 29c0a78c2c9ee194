-- Change notifications name the table too (`<schema>.<table>`), and API-key revocations notify: the broker's
-- verified-key cache drops a key revoked by another process as soon as the notification arrives. Only revocation
-- (revoked_at) and deletion notify for api_keys: the once-a-minute last_used_at writes do not.
CREATE OR REPLACE FUNCTION webex_auth_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('webex_auth_changes', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS api_keys_notify_change ON api_keys;
CREATE TRIGGER api_keys_notify_change AFTER UPDATE OF revoked_at OR DELETE OR TRUNCATE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();
