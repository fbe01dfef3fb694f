-- 0002_identity: API keys, service accounts and what authenticating them
-- needs. No secret is stored in clear: API keys keep their Digest HA1
-- values, client secrets their bcrypt hash, access tokens their SHA-256.
--
-- Roles are JSON arrays of role names. Project assignments live in their
-- own tables with foreign keys both ways, so deleting a project or a
-- principal deletes its assignments and no assignment outlives either.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    public_key  TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    org_roles   TEXT NOT NULL DEFAULT '[]',
    ha1_md5     TEXT NOT NULL,
    ha1_sha256  TEXT NOT NULL,
    created     BIGINT NOT NULL DEFAULT 0
);

-- An organization's keys in creation (id) order.
CREATE INDEX api_keys_org_id_id ON api_keys (org_id, id);

CREATE TABLE api_key_projects (
    api_key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    roles      TEXT NOT NULL,
    PRIMARY KEY (api_key_id, group_id)
);

-- A project's keys, and the group_id foreign key.
CREATE INDEX api_key_projects_group_id ON api_key_projects (group_id, api_key_id);

CREATE TABLE service_accounts (
    client_id   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    org_roles   TEXT NOT NULL DEFAULT '[]',
    created_at  BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX service_accounts_org_id_client_id ON service_accounts (org_id, client_id);

CREATE TABLE service_account_projects (
    client_id TEXT NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    group_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    roles     TEXT NOT NULL,
    PRIMARY KEY (client_id, group_id)
);

CREATE INDEX service_account_projects_group_id ON service_account_projects (group_id, client_id);

CREATE TABLE service_account_secrets (
    id                  TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    hash                TEXT NOT NULL,
    masked_secret_value TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL DEFAULT 0,
    expires_at          BIGINT NOT NULL DEFAULT 0,
    last_used_at        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX service_account_secrets_client_id ON service_account_secrets (client_id, id);

-- Access tokens outlive a deleted account or secret as revoked rows until
-- they expire, so that a revoked token is told apart from a forged one in
-- the logs; no foreign keys for that reason.
CREATE TABLE access_tokens (
    digest     TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    secret_id  TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX access_tokens_subject ON access_tokens (subject);
CREATE INDEX access_tokens_secret_id ON access_tokens (secret_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- Digest (nonce, nc) pairs already accepted: replay protection that every
-- replica and every restart shares.
CREATE TABLE digest_nonces (
    nonce      TEXT NOT NULL,
    nc         BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, nc)
);

CREATE INDEX digest_nonces_expires_at ON digest_nonces (expires_at);

-- Server keys (the Digest nonce HMAC key), generated once, hex encoded.
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
