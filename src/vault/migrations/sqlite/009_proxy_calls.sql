-- The proxy's call log: each call through /api/v1/connections/{id}/proxy/{path} — method, path template (ids as
-- {id}), status, duration and Webex's tracking id, never a body or token — the newest 100 kept per connection
-- (src/vault/store/sql-proxy-calls.ts).
CREATE TABLE IF NOT EXISTS proxy_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  connection_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  method TEXT NOT NULL,
  template TEXT NOT NULL,
  status INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  tracking_id TEXT NULL
);
CREATE INDEX IF NOT EXISTS proxy_calls_connection ON proxy_calls (connection_id, id);
