-- Change notifications for the vault's cached integration rows and webhook endpoints (vault/store/change-scopes.ts):
-- every write to either table notifies channel webex_auth_changes with `<schema>.<table>` (migration 003's function),
-- so every instance drops what it cached of that table as soon as the notification arrives.
DROP TRIGGER IF EXISTS integrations_notify_change ON integrations;
CREATE TRIGGER integrations_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrations
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();

DROP TRIGGER IF EXISTS webhook_endpoints_notify_change ON webhook_endpoints;
CREATE TRIGGER webhook_endpoints_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_endpoints
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();
