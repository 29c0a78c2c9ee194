-- Fewer B-trees written per commit (each page a commit dirties is one WAL frame, written and checksummed):
-- * web_sessions, audit_log and token_mints become WITHOUT ROWID tables. A rowid table keyed by a TEXT (or composite)
--   primary key keeps two B-trees, the rows and sqlite_autoindex_* on the key, and every insert or delete writes both;
--   a WITHOUT ROWID table stores its rows in the key's B-tree. Their rows are narrow (a session's sealed data, an audit
--   entry, a mint), as such tables need to be: a row over about 1000 bytes would spill to an overflow page.
--   The indexes are recreated as they were; on audit_log they now end with the id, so a page of the log read newest
--   first (ORDER BY at DESC, id DESC) is read in index order instead of sorted.
-- * connections_app_org goes: no statement uses it (the Service App listing, `app_id IS NOT NULL AND kind = ?
--   ORDER BY created_at, id`, scans connections), yet every connection saved from a grant rewrote its entry.
-- * connections_key_id goes: SQLite rewrites an index entry whenever its column is SET, even to the same value, and
--   every grant saved and every refresh sets key_id. Only a key rotation's count (`key_id <> ?`, once per rotation)
--   read it; that count now scans connections, as the rotation's batches (ORDER BY id) already do.
-- pending_authorizations stays a rowid table: its rows are wider (the sealed verifier and scopes), and inserted at
-- random keys they split pages more often than the autoindex page they would save (measured: more frames, not fewer).
-- Nothing refers to these tables by foreign key; rows are copied as they are.

CREATE TABLE web_sessions_new (
  id_hash TEXT PRIMARY KEY,
  account_id TEXT,
  data_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO web_sessions_new (id_hash, account_id, data_enc, key_id, expires_at, created_at, updated_at)
  SELECT id_hash, account_id, data_enc, key_id, expires_at, created_at, updated_at FROM web_sessions;
DROP TABLE web_sessions;
ALTER TABLE web_sessions_new RENAME TO web_sessions;
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

CREATE TABLE audit_log_new (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_kind TEXT NOT NULL,
  actor_id TEXT,
  actor_label TEXT,
  action TEXT NOT NULL,
  owner_id TEXT,
  target TEXT,
  address TEXT,
  detail TEXT
) WITHOUT ROWID;
INSERT INTO audit_log_new (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
  SELECT id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
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

DROP INDEX IF EXISTS connections_app_org;
DROP INDEX IF EXISTS connections_key_id;
