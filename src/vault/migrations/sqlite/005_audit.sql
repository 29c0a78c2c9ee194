-- The audit log: who did what, when, from which address (vault/audit.ts). Never a secret: the vault refuses any
-- entry whose text looks like a token. Read newest first, for everyone (at) or for one member (owner_id / actor_id);
-- entries older than AUDIT_RETENTION_DAYS are purged.
CREATE TABLE IF NOT EXISTS audit_log (
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
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_owner_at ON audit_log (owner_id, at);
CREATE INDEX IF NOT EXISTS audit_log_actor_at ON audit_log (actor_id, at);
