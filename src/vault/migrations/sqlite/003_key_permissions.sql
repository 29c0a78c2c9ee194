-- Broker API key permissions (issue 16): what a key may do, and for `proxy` which paths and methods.
--
-- `permissions` is a JSON list of permission names ("token", "refresh", "proxy", "delete", "guests"). NULL marks a key
-- made before permissions existed (a legacy key): it keeps the powers every key had then (token, refresh, delete)
-- until narrowed (`webex-auth keys narrow <id> --allow …`), which sets the list. `paths` and `methods` are JSON lists
-- or NULL (any). Rows are kept as they are; nothing is rewritten.

ALTER TABLE api_keys ADD COLUMN permissions TEXT;
ALTER TABLE api_keys ADD COLUMN paths TEXT;
ALTER TABLE api_keys ADD COLUMN methods TEXT;
