-- Lifecycle-event webhooks (vault/webhook-endpoints.ts, vault/webhooks.ts). An endpoint belongs to one owner: for all of
-- that owner's events (connection_id NULL) or for one connection's. Its Standard Webhooks secret is envelope-encrypted
-- (slot bound to the row id). The delivery log keeps the last deliveries per endpoint (the operator's WEBHOOK_URL is
-- endpoint `operator`): the event id and body (which never hold a token, a secret or an email), attempts, the last
-- HTTP status and error class.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  connection_id TEXT,
  url TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  description TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_owner ON webhook_endpoints (owner_id);
CREATE INDEX IF NOT EXISTS webhook_endpoints_connection ON webhook_endpoints (connection_id);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_at ON webhook_deliveries (endpoint_id, created_at);
