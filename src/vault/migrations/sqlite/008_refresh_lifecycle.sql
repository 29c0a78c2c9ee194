-- Refresh lifecycle (cap awareness, back-off, history, reconciliation):
-- * refresh_history: every refresh and its outcome, the newest 200 kept per connection (src/vault/store/sql-history.ts);
-- * token_mints: the access tokens this broker minted per Webex person, each counted until it expires (the person's
--   live-token cap, counted across every integration; an unchanged token from a refresh is not a new row);
-- * webex_token_counts: Webex's own count of a person's access tokens, read through an admin connection (cached);
-- * connections.refresh_failures / refresh_failing_since / refresh_next_attempt_at / last_error_status: a refresh
--   failing on 5xx/429/network backs off on a schedule instead of retrying at every request.
CREATE TABLE IF NOT EXISTS refresh_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  connection_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER NULL,
  duration_ms INTEGER NOT NULL,
  error TEXT NULL
);
CREATE INDEX IF NOT EXISTS refresh_history_connection ON refresh_history (connection_id, id);
CREATE TABLE IF NOT EXISTS token_mints (
  connection_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  access_expires_at BIGINT NOT NULL,
  minted_at BIGINT NOT NULL,
  PRIMARY KEY (connection_id, access_expires_at)
);
CREATE INDEX IF NOT EXISTS token_mints_person ON token_mints (person_id, access_expires_at);
CREATE TABLE IF NOT EXISTS webex_token_counts (
  person_id TEXT PRIMARY KEY,
  access_tokens INTEGER NOT NULL,
  checked_at BIGINT NOT NULL
);
ALTER TABLE connections ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN refresh_failing_since BIGINT NULL;
ALTER TABLE connections ADD COLUMN refresh_next_attempt_at BIGINT NULL;
ALTER TABLE connections ADD COLUMN last_error_status INTEGER NULL;
