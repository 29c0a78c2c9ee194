-- Change notifications for two more tables the vault caches (vault/store/change-scopes.ts): a connection page's refresh
-- history and proxy calls, read at every view of the page and written only by refreshes and proxied calls. Every write
-- to either notifies channel webex_auth_changes with `<schema>.<table>` (migration 003's function), so every instance
-- drops what it cached of that table as soon as the notification arrives.
DROP TRIGGER IF EXISTS refresh_history_notify_change ON refresh_history;
CREATE TRIGGER refresh_history_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON refresh_history
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();

DROP TRIGGER IF EXISTS proxy_calls_notify_change ON proxy_calls;
CREATE TRIGGER proxy_calls_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON proxy_calls
  FOR EACH STATEMENT EXECUTE FUNCTION webex_auth_notify_change();
