-- Broker API key permissions (issue 16): what a key may do, and for `proxy` which paths and methods.
--
-- `permissions` is a JSON list of permission names ("token", "refresh", "proxy", "delete", "guests"). NULL marks a key
-- made before permissions existed (a legacy key): it keeps the powers every key had then (token, refresh, delete)
-- until narrowed (`webex-auth keys narrow <id> --allow …`), which sets the list. `paths` and `methods` are JSON lists
-- or NULL (any). Rows are kept as they are; nothing is rewritten.

ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS permissions TEXT;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS paths TEXT;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS methods TEXT;

-- A narrowed key must stop at once in every instance, as a revoked one does: changes of what a key may do notify the
-- broker's verified-key cache too (migration 003 notified revocations and deletes only; last_used_at still does not).
DROP TRIGGER IF EXISTS api_keys_notify_change ON api_keys;
CREATE TRIGGER api_keys_notify_change
  AFTER UPDATE OF revoked_at, permissions, paths, methods OR DELETE OR TRUNCATE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();
