-- Owners, accounts and web sessions in the store (team mode).
--
-- Integrations, connections and API keys get an owner: 'local' (the local operator: local mode, the CLI, and every
-- row made before owners existed), 'configured' (the configured integration) or an account's id. Integrations become
-- unique per (owner_id, client_id, api_base) and connections per (integration_id, person_id, owner_id), so the same
-- client id or the same person brought by two owners are two rows and an upsert never changes another owner's row.
-- The tables are altered in place, so the change-notify triggers of migrations 002/003 on connections and api_keys
-- stay. The new tables notify nothing: no cache holds their rows.

ALTER TABLE integrations ADD COLUMN IF NOT EXISTS owner_id TEXT NOT NULL DEFAULT 'local';
ALTER TABLE integrations DROP CONSTRAINT IF EXISTS integrations_client_id_api_base_key;
ALTER TABLE integrations DROP CONSTRAINT IF EXISTS integrations_owner_client_key;
ALTER TABLE integrations ADD CONSTRAINT integrations_owner_client_key UNIQUE (owner_id, client_id, api_base);

ALTER TABLE connections ADD COLUMN IF NOT EXISTS owner_id TEXT NOT NULL DEFAULT 'local';
ALTER TABLE connections DROP CONSTRAINT IF EXISTS connections_integration_id_person_id_key;
ALTER TABLE connections DROP CONSTRAINT IF EXISTS connections_integration_person_owner_key;
ALTER TABLE connections ADD CONSTRAINT connections_integration_person_owner_key
  UNIQUE (integration_id, person_id, owner_id);
CREATE INDEX IF NOT EXISTS connections_owner ON connections (owner_id);

ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS owner_id TEXT NOT NULL DEFAULT 'local';
CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (owner_id);

-- People who signed in with Webex, by Webex person id (the id_token's `sub`).
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  person_id TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  org_id TEXT,
  created_at BIGINT NOT NULL,
  last_sign_in_at BIGINT NOT NULL
);

-- Web sessions by SHA-256 of the session id (the id itself is only in the browser's cookie); data is encrypted.
CREATE TABLE IF NOT EXISTS web_sessions (
  id_hash TEXT PRIMARY KEY,
  account_id TEXT,
  data_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_expires_at ON web_sessions (expires_at);

-- Authorizations a session started, by SHA-256 of their state; taken (answered) at most once.
CREATE TABLE IF NOT EXISTS pending_authorizations (
  state_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('signin', 'connect')),
  integration_id TEXT NOT NULL,
  redirect_path TEXT NOT NULL,
  data_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  taken_at BIGINT,
  connection_id TEXT
);
CREATE INDEX IF NOT EXISTS pending_authorizations_session ON pending_authorizations (session_hash);
CREATE INDEX IF NOT EXISTS pending_authorizations_expires_at ON pending_authorizations (expires_at);
