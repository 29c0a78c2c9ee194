-- Two indexes no SQLite statement needs, each rewritten by every grant saved (and the second by every refresh): each
-- page a commit dirties is one more WAL frame written and checksummed.
-- * connections_app_org: the Service App listing (`app_id IS NOT NULL AND kind = ? ORDER BY created_at, id`) scans
--   connections on SQLite whether it is there or not.
-- * connections_key_id: SQLite rewrites an index entry whenever its column is SET, even to the same value, and the
--   grant upsert and every refresh set key_id. Only a key rotation's count (`key_id <> ?`, once per rotation) read it;
--   that count now scans connections, as the rotation's batches (ORDER BY id) already do.
-- Rebuilding the tables keyed by random text as WITHOUT ROWID (one B-tree fewer per insert) was measured and left out:
-- about a frame less per flow, but 1.5-3 ms of DROP/CREATE on every new database, the demo's start included.
DROP INDEX IF EXISTS connections_app_org;
DROP INDEX IF EXISTS connections_key_id;
