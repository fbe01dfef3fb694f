-- 0010_no_unfinished_work: the start-up reconcile is gone.
--
-- Every change now commits in one unit of work with the timer that drives
-- it (flexd.Tx), so nothing unfinished can be left without a timer, and
-- nothing reads the partial indexes of 0004 any more. Dropping them saves
-- their upkeep on every state change.

DROP INDEX flex_clusters_unfinished;
DROP INDEX snapshots_unfinished;
DROP INDEX restore_jobs_unfinished;
