-- 0001_core: the Atlas resources flexd serves.
--
-- Written in the SQL that SQLite and PostgreSQL share. Timestamps are BIGINT
-- unix seconds with 0 for "not set", tags are JSON text, ids are 24-hex
-- ObjectId-shaped TEXT whose order is creation order.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE projects (
    id                        TEXT PRIMARY KEY,
    org_id                    TEXT NOT NULL REFERENCES organizations (id),
    name                      TEXT NOT NULL,
    created                   BIGINT NOT NULL DEFAULT 0,
    tags                      TEXT NOT NULL DEFAULT '[]',
    region_usage_restrictions TEXT NOT NULL DEFAULT '',
    -- Also the index behind the org_id foreign key.
    UNIQUE (org_id, name)
);

-- An organization's projects in creation (id) order.
CREATE INDEX projects_org_id_id ON projects (org_id, id);

CREATE TABLE flex_clusters (
    id                             TEXT PRIMARY KEY,
    group_id                       TEXT NOT NULL REFERENCES projects (id),
    name                           TEXT NOT NULL,
    backing_provider_name          TEXT NOT NULL DEFAULT '',
    region_name                    TEXT NOT NULL DEFAULT '',
    disk_size_gb                   DOUBLE PRECISION NOT NULL DEFAULT 0,
    mongodb_version                TEXT NOT NULL DEFAULT '',
    state_name                     TEXT NOT NULL DEFAULT '',
    tags                           TEXT NOT NULL DEFAULT '[]',
    termination_protection_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    create_date                    BIGINT NOT NULL DEFAULT 0,
    standard_connection_string     TEXT NOT NULL DEFAULT '',
    srv_connection_string          TEXT NOT NULL DEFAULT '',
    -- Also serves a project's cluster count and the group_id foreign key.
    UNIQUE (group_id, name)
);

-- A project's clusters in creation order.
CREATE INDEX flex_clusters_group_id_create_date ON flex_clusters (group_id, create_date, id);

CREATE TABLE snapshots (
    id                TEXT PRIMARY KEY,
    group_id          TEXT NOT NULL,
    cluster_id        TEXT NOT NULL REFERENCES flex_clusters (id),
    cluster_name      TEXT NOT NULL,
    status            TEXT NOT NULL,
    mongodb_version   TEXT NOT NULL DEFAULT '',
    scheduled_time    BIGINT NOT NULL DEFAULT 0,
    start_time        BIGINT NOT NULL DEFAULT 0,
    finish_time       BIGINT NOT NULL DEFAULT 0,
    expiration        BIGINT NOT NULL DEFAULT 0,
    failure_reason    TEXT NOT NULL DEFAULT '',
    artifact_size     BIGINT NOT NULL DEFAULT 0,
    artifact_checksum TEXT NOT NULL DEFAULT ''
);

-- A cluster's snapshots newest first (id DESC), and their count.
CREATE INDEX snapshots_cluster_id_id ON snapshots (cluster_id, id);

-- snapshot_id has no foreign key: a job outlives its snapshot's expiry.
CREATE TABLE restore_jobs (
    id                          TEXT PRIMARY KEY,
    project_id                  TEXT NOT NULL,
    cluster_id                  TEXT NOT NULL REFERENCES flex_clusters (id),
    instance_name               TEXT NOT NULL,
    snapshot_id                 TEXT NOT NULL,
    delivery_type               TEXT NOT NULL,
    status                      TEXT NOT NULL,
    target_project_id           TEXT NOT NULL DEFAULT '',
    target_deployment_item_name TEXT NOT NULL DEFAULT '',
    download_token              TEXT, -- NULL unless a DOWNLOAD job
    expiration_date             BIGINT NOT NULL DEFAULT 0,
    restore_scheduled_date      BIGINT NOT NULL DEFAULT 0,
    snapshot_finished_date      BIGINT NOT NULL DEFAULT 0,
    restore_finished_date       BIGINT NOT NULL DEFAULT 0,
    failure_reason              TEXT NOT NULL DEFAULT ''
);

-- A cluster's jobs newest first (id DESC), and their count.
CREATE INDEX restore_jobs_cluster_id_id ON restore_jobs (cluster_id, id);

CREATE UNIQUE INDEX restore_jobs_download_token ON restore_jobs (download_token)
    WHERE download_token IS NOT NULL;
