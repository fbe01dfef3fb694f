-- Cluster names are unique in a project regardless of case: hostnames are
-- lower case, so "Prod" and "prod" would share connection strings. Lookups
-- by name stay exact.
CREATE UNIQUE INDEX flex_clusters_group_lower_name ON flex_clusters (group_id, lower(name));
