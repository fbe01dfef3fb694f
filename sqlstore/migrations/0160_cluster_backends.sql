-- 0160_cluster_backends: an external MongoDB deployment attached to a Flex
-- cluster (PUT /_flexd/groups/{groupId}/flexClusters/{name}/backend).
--
-- uri is the connection string as given, credentials included: a secret,
-- sealed (AES-GCM, bound to this table, column and cluster) under the
-- secret key like the API keys' HA1 values, never kept in clear when the
-- store has a key. hosts and connection_string are the same URI without
-- credentials or secret options: what the API may show. A cluster without
-- a row has the embedded backend; the row goes with its cluster.
CREATE TABLE cluster_backends (
    cluster_id         TEXT PRIMARY KEY REFERENCES flex_clusters (id) ON DELETE CASCADE,
    uri                TEXT NOT NULL,
    hosts              TEXT NOT NULL,
    connection_string  TEXT NOT NULL,
    attached_at        BIGINT NOT NULL DEFAULT 0
);
