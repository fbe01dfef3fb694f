-- 0004_unfinished_work: what the lifecycle engine's start-up reconcile
-- reads (Store.UnfinishedWork), in indexes as small as the unfinished work.
--
-- Without them the reconcile reads every restore job and snapshot ever
-- made, so a restart on a store of a million jobs took a second before
-- flexd was ready. Both SQLite and PostgreSQL use a partial index only for
-- a query whose WHERE names the same literal statuses: the queries in
-- sqlstore/lifecycle.go repeat these lists exactly (plan_test.go checks).

CREATE INDEX flex_clusters_unfinished ON flex_clusters (state_name, id)
    WHERE state_name IN ('CREATING', 'UPDATING', 'DELETING');

CREATE INDEX snapshots_unfinished ON snapshots (status, id)
    WHERE status IN ('PENDING', 'QUEUED', 'RUNNING');

CREATE INDEX restore_jobs_unfinished ON restore_jobs (status, id)
    WHERE status IN ('PENDING', 'QUEUED', 'RUNNING');
