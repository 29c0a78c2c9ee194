-- Every Webex identity kind (vault/types.ts ConnectionKind). A connection is an `integration` grant (a person's, as
-- before), a `service_app` (an app's machine account in one org: the app's client id/secret are its integration row,
-- of kind `service_app`; its Webex application id and the integration connection that fetches its tokens are here;
-- the target org is `org_id`) or a `bot` (a bot token that does not expire; its integration row, of kind `bot`, holds
-- no secret). A connection that can no longer be refreshed is `needs_reauth` with a reason: `refresh_refused`,
-- `revoked_at_webex` or `deauthorized` (NULL while active).
ALTER TABLE connections ADD COLUMN kind TEXT NOT NULL DEFAULT 'integration';
ALTER TABLE connections ADD COLUMN needs_reauth_reason TEXT NULL;
ALTER TABLE connections ADD COLUMN app_id TEXT NULL;
ALTER TABLE connections ADD COLUMN fetcher_connection_id TEXT NULL;
ALTER TABLE integrations ADD COLUMN kind TEXT NOT NULL DEFAULT 'integration';
CREATE INDEX IF NOT EXISTS connections_app_org ON connections (app_id, org_id);

-- Guest tokens a service app minted (POST /v1/guests/token), one per (connection, subject), reused while live. The
-- token is envelope-encrypted (slot bound to the connection id and subject).
CREATE TABLE IF NOT EXISTS guest_tokens (
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  token_enc TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (connection_id, subject)
);
