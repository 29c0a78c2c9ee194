-- Pending authorizations leave the store. The browser that starts a flow now holds its pending authorization (state,
-- PKCE verifier, nonce, scopes, owner) in a cookie sealed with the key ring and bound to its flow id, so starting a
-- flow writes nothing here; an abandoned flow leaves nothing behind. What must be shared by every instance is only
-- that a state was answered: its callback inserts the state's hash here before the code exchange (at most once: the
-- primary key), and the row keeps the connection it produced for the "already used" page of a reloaded callback.
-- pending_authorizations is left in place, unused: instances of the previous version may still be serving from this
-- database during a rolling upgrade, and would fail every flow without it. A later migration drops it.
CREATE TABLE IF NOT EXISTS taken_states (
  state_hash TEXT PRIMARY KEY,
  browser_hash TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  connection_id TEXT
);
CREATE INDEX IF NOT EXISTS taken_states_expires_at ON taken_states (expires_at);
