-- 0090_data_plane: a cluster's endpoint port, and artifacts kept as blobs.
--
-- port is the TCP port of the cluster's MongoDB endpoint (0: none yet); a
-- cluster keeps it across restarts.
--
-- A snapshot's data lives in the blob store (files under the data dir);
-- its artifact row keeps only the blob's key, size and SHA-256 (checksum),
-- with content ''. Rows from before the data plane keep their JSON content
-- and an empty blob_key: legacy configuration-only artifacts, which a
-- download still serves and a restore on the data plane refuses.
ALTER TABLE flex_clusters ADD COLUMN port INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshot_artifacts ADD COLUMN blob_key TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshot_artifacts ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
