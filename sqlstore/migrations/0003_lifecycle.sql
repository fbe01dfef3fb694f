-- 0003_lifecycle: what the lifecycle engine keeps between restarts.
--
-- Due times are BIGINT unix seconds of flexd's own clock (which may be a
-- manual one), not of the job queue's.

-- Work due at a time: at most one timer of each kind per entity.
CREATE TABLE lifecycle_timers (
    kind      TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    due_at    BIGINT NOT NULL,
    seq       BIGINT NOT NULL, -- grows with every arming; see flexd.Timer
    PRIMARY KEY (kind, entity_id)
);

CREATE INDEX lifecycle_timers_due_at ON lifecycle_timers (due_at, kind, entity_id);

-- Faults injected for drills: the next count operations fail with reason.
CREATE TABLE lifecycle_faults (
    cluster_id TEXT NOT NULL,
    operation  TEXT NOT NULL,
    count      BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (cluster_id, operation)
);

-- What each completed snapshot captured. Content is text (the cluster's
-- configuration as JSON today), so one column type serves both databases.
CREATE TABLE snapshot_artifacts (
    snapshot_id TEXT PRIMARY KEY,
    format      TEXT NOT NULL,
    content     TEXT NOT NULL,
    checksum    TEXT NOT NULL
);

-- One row per restore applied to its target: the primary key is what makes
-- applying a restore twice impossible, crash or not.
CREATE TABLE restore_applications (
    restore_job_id TEXT PRIMARY KEY,
    applied_at     BIGINT NOT NULL
);

-- The restores into a target, for one-at-a-time ordering.
CREATE INDEX restore_jobs_target ON restore_jobs (target_project_id, target_deployment_item_name, status, id);

-- The jobs that hold a snapshot, for retention.
CREATE INDEX restore_jobs_snapshot_id ON restore_jobs (snapshot_id);
