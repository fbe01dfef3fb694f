-- 0070_database_access: a project's database users and its IP access list.
--
-- A database user keeps no password: only its salted SCRAM keys, one set
-- per mechanism (salt, iteration count, StoredKey, ServerKey; binary values
-- base64-encoded). They are columns of their own so that at-rest
-- encryption can take them as it takes the API keys' HA1 values. Roles,
-- scopes and labels are JSON arrays in the wire's field names.
--
-- Both tables go with their project (ON DELETE CASCADE). Temporary rows
-- carry delete_after (unix seconds, 0 for none): reads leave out what has
-- expired by flexd's clock and writes purge it.

CREATE TABLE database_users (
    group_id             TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    database_name        TEXT NOT NULL,
    username             TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    roles                TEXT NOT NULL DEFAULT '[]',
    scopes               TEXT NOT NULL DEFAULT '[]',
    labels               TEXT NOT NULL DEFAULT '[]',
    delete_after         BIGINT NOT NULL DEFAULT 0,
    scram_sha1_salt      TEXT NOT NULL,
    scram_sha1_iters     INTEGER NOT NULL,
    scram_sha1_stored    TEXT NOT NULL,
    scram_sha1_server    TEXT NOT NULL,
    scram_sha256_salt    TEXT NOT NULL,
    scram_sha256_iters   INTEGER NOT NULL,
    scram_sha256_stored  TEXT NOT NULL,
    scram_sha256_server  TEXT NOT NULL,
    created              BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, database_name, username)
);

-- A project's users in creation order.
CREATE INDEX database_users_group_created ON database_users (group_id, created, database_name, username);

CREATE TABLE access_list_entries (
    group_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    cidr_block   TEXT NOT NULL,
    ip_address   TEXT NOT NULL DEFAULT '',
    comment      TEXT NOT NULL DEFAULT '',
    delete_after BIGINT NOT NULL DEFAULT 0,
    created      BIGINT NOT NULL DEFAULT 0,
    -- position orders the entries one request adds in one second as the
    -- request listed them.
    position     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, cidr_block)
);

-- A project's entries in creation order.
CREATE INDEX access_list_entries_group_created ON access_list_entries (group_id, created, position, cidr_block);
