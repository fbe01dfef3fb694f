-- 0020: what a project changed of Atlas's defaults, and flexd's instance
-- administrators.
--
-- Settings and limits are one row per name, so that a PATCH writes only
-- the names it sets; a project's rows go with it.
CREATE TABLE project_settings (
    group_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    enabled  BOOLEAN NOT NULL,
    PRIMARY KEY (group_id, name)
);

CREATE TABLE project_limits (
    group_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    BIGINT NOT NULL,
    PRIMARY KEY (group_id, name)
);

-- The API keys (by id) and service accounts (by client id) designated as
-- instance administrators. No foreign key, as the id may name either
-- table. Deleting an organization deletes its rows; a row that outlives a
-- deleted credential grants nothing, as credential ids are never reused.
CREATE TABLE instance_administrators (
    id TEXT PRIMARY KEY
);

-- Before 0020 every ORG_OWNER of the one organization ran the instance-wide
-- drills; they keep doing so. The default organization is the oldest.
INSERT INTO instance_administrators (id)
    SELECT id FROM api_keys
    WHERE org_id = (SELECT id FROM organizations ORDER BY id LIMIT 1) AND org_roles LIKE '%"ORG_OWNER"%';
INSERT INTO instance_administrators (id)
    SELECT client_id FROM service_accounts
    WHERE org_id = (SELECT id FROM organizations ORDER BY id LIMIT 1) AND org_roles LIKE '%"ORG_OWNER"%';
