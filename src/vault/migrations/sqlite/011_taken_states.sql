-- Pending authorizations leave the store. The browser that starts a flow now holds its pending authorization (state,
-- PKCE verifier, nonce, scopes, owner) in a cookie sealed with the key ring and bound to its flow id, so starting a
-- flow writes nothing here; an abandoned flow leaves nothing behind. What must be shared by every instance is only
-- that a state was answered: its callback inserts the state's hash here before the code exchange (at most once: the
-- primary key), and the row keeps the connection it produced for the "already used" page of a reloaded callback.
-- WITHOUT ROWID: the one B-tree is the primary key's (a rowid table would add a second, one WAL frame more per take).
DROP TABLE IF EXISTS pending_authorizations;
CREATE TABLE IF NOT EXISTS taken_states (
  state_hash TEXT PRIMARY KEY,
  browser_hash TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  connection_id TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS taken_states_expires_at ON taken_states (expires_at);

-- Two tables every authorization writes, rebuilt WITHOUT ROWID: each B-tree a commit changes is one more WAL frame
-- (two writes and a 4 KB copy), and a rowid table keyed by something else is two B-trees for one row.
-- * audit_log, keyed by (at, id): the order every listing reads (`ORDER BY at DESC, id DESC`) and the purge's range
--   (`at < ?`), so audit_log_at goes too. An insert touches 3 B-trees instead of 5.
-- * token_mints, keyed by (connection_id, access_expires_at) as before: 2 B-trees instead of 3.
CREATE TABLE audit_log_new (
  id TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor_kind TEXT NOT NULL,
  actor_id TEXT,
  actor_label TEXT,
  action TEXT NOT NULL,
  owner_id TEXT,
  target TEXT,
  address TEXT,
  detail TEXT,
  PRIMARY KEY (at, id)
) WITHOUT ROWID;
INSERT INTO audit_log_new (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
  SELECT id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_owner_at ON audit_log (owner_id, at);
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);

CREATE TABLE token_mints_new (
  connection_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  access_expires_at BIGINT NOT NULL,
  minted_at BIGINT NOT NULL,
  PRIMARY KEY (connection_id, access_expires_at)
) WITHOUT ROWID;
INSERT INTO token_mints_new (connection_id, person_id, access_expires_at, minted_at)
  SELECT connection_id, person_id, access_expires_at, minted_at FROM token_mints;
DROP TABLE token_mints;
ALTER TABLE token_mints_new RENAME TO token_mints;
CREATE INDEX token_mints_person ON token_mints (person_id, access_expires_at);
