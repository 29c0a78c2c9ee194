-- Integrations, connections, broker API keys and named leases. Secrets are envelope-encrypted strings (crypto/).
CREATE TABLE IF NOT EXISTS integrations (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  api_base TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  scopes TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (client_id, api_base)
);

CREATE TABLE IF NOT EXISTS connections (
  id TEXT PRIMARY KEY,
  integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  person_id TEXT NOT NULL,
  person_email TEXT NOT NULL,
  person_emails TEXT NOT NULL,
  display_name TEXT NOT NULL,
  avatar TEXT,
  org_id TEXT,
  scopes TEXT NOT NULL,
  requested_scopes TEXT NOT NULL,
  status TEXT NOT NULL,
  access_token_enc TEXT NOT NULL,
  refresh_token_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  access_expires_at BIGINT NOT NULL,
  refresh_expires_at BIGINT NOT NULL,
  keepalive_due_at BIGINT,
  last_refresh_at BIGINT,
  last_error TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  lease_holder TEXT,
  lease_expires_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (integration_id, person_id)
);

CREATE INDEX IF NOT EXISTS connections_keepalive_due ON connections (keepalive_due_at);
CREATE INDEX IF NOT EXISTS connections_key_id ON connections (key_id);

CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  connection_ids TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);

CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
