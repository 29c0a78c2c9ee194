-- Owners, accounts and web sessions in the store (team mode).
--
-- Integrations, connections and API keys get an owner: 'local' (the local operator: local mode, the CLI, and every
-- row made before owners existed), 'configured' (the configured integration) or an account's id. Integrations become
-- unique per (owner_id, client_id, api_base) and connections per (integration_id, person_id, owner_id), so the same
-- client id or the same person brought by two owners are two rows and an upsert never changes another owner's row.
--
-- SQLite cannot drop a table-level UNIQUE, so both tables are rebuilt. The store opens the database with
-- `PRAGMA foreign_keys = ON`, which cannot be turned off inside the migration's transaction, so the rebuild must
-- not delete through the foreign key connections -> integrations (ON DELETE CASCADE) and must leave it pointing at
-- the new `integrations`:
--   1. rename integrations to integrations_old (with foreign keys on, SQLite rewrites the REFERENCES clause of the
--      old connections table to integrations_old);
--   2. create the new integrations and copy the rows;
--   3. create connections_new, whose REFERENCES names `integrations` (the new table), and copy the rows;
--   4. drop the old connections (a child: nothing cascades), then integrations_old (no child refers to it any
--      more, so its implicit DELETE cascades nowhere);
--   5. rename connections_new to connections (nothing refers to it) and recreate its indexes.
-- Unique keys are named unique indexes (not table constraints), so a later migration can drop them.

ALTER TABLE integrations RENAME TO integrations_old;

CREATE TABLE integrations (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL DEFAULT 'local',
  client_id TEXT NOT NULL,
  api_base TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  scopes TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX integrations_owner_client ON integrations (owner_id, client_id, api_base);

INSERT INTO integrations (id, owner_id, client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at,
    updated_at)
  SELECT id, 'local', client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at, updated_at
  FROM integrations_old;

CREATE TABLE connections_new (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL DEFAULT 'local',
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
  updated_at BIGINT NOT NULL
);

INSERT INTO connections_new (id, owner_id, integration_id, person_id, person_email, person_emails, display_name,
    avatar, org_id, scopes, requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at,
    refresh_expires_at, keepalive_due_at, last_refresh_at, last_error, version, lease_holder, lease_expires_at,
    created_at, updated_at)
  SELECT id, 'local', integration_id, person_id, person_email, person_emails, display_name, avatar, org_id, scopes,
    requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at, refresh_expires_at,
    keepalive_due_at, last_refresh_at, last_error, version, lease_holder, lease_expires_at, created_at, updated_at
  FROM connections;

DROP TABLE connections;
DROP TABLE integrations_old;
ALTER TABLE connections_new RENAME TO connections;

CREATE UNIQUE INDEX connections_integration_person_owner ON connections (integration_id, person_id, owner_id);
CREATE INDEX connections_keepalive_due ON connections (keepalive_due_at);
CREATE INDEX connections_key_id ON connections (key_id);
CREATE INDEX connections_owner ON connections (owner_id);

ALTER TABLE api_keys ADD COLUMN owner_id TEXT NOT NULL DEFAULT 'local';
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
