package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flexd/flexd"
)

const flexClusterColumns = "id, group_id, name, backing_provider_name, region_name, disk_size_gb, " +
	"mongodb_version, state_name, tags, termination_protection_enabled, create_date, " +
	"standard_connection_string, srv_connection_string"

func scanFlexCluster(r rowScanner, c *flexd.FlexCluster) error {
	return r.Scan(&c.ID, &c.GroupID, &c.Name, &c.BackingProviderName, &c.RegionName, &c.DiskSizeGB,
		&c.MongoDBVersion, &c.StateName, tagsColumn{&c.Tags}, &c.TerminationProtectionEnabled,
		unixTime{&c.CreateDate}, &c.StandardConnectionString, &c.SrvConnectionString)
}

// CreateFlexCluster stores c: ErrConflict when its project has a cluster of
// that name (or its id is taken), ErrNotFound when the project does not
// exist. On success c holds what a Get returns.
func (s *Store) CreateFlexCluster(ctx context.Context, c *flexd.FlexCluster) error {
	return createFlexCluster(ctx, s.run(), c)
}

func createFlexCluster(ctx context.Context, r runner, c *flexd.FlexCluster) error {
	_, err := r.exec(ctx,
		"INSERT INTO flex_clusters ("+flexClusterColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.GroupID, c.Name, c.BackingProviderName, c.RegionName, c.DiskSizeGB,
		c.MongoDBVersion, c.StateName, tagsValue(c.Tags), c.TerminationProtectionEnabled,
		unixSeconds(c.CreateDate), c.StandardConnectionString, c.SrvConnectionString)
	if err != nil {
		return r.s.writeErr(err, fmt.Sprintf("create cluster %q in project %s", c.Name, c.GroupID))
	}
	r.touch(flexd.ProjectParent(c.GroupID), flexd.ClusterParent(c.ID))
	c.CreateDate = wholeSecondUTC(c.CreateDate)
	c.Tags = normalTags(c.Tags)
	return nil
}

// GetFlexCluster reads a cluster by its project and name.
func (s *Store) GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	return getOne(ctx, s.run(), fmt.Sprintf("cluster %q in project %s", name, groupID),
		"SELECT "+flexClusterColumns+" FROM flex_clusters WHERE group_id = ? AND name = ?",
		[]any{groupID, name}, scanFlexCluster)
}

// GetFlexClusterByID reads a cluster by id.
func (s *Store) GetFlexClusterByID(ctx context.Context, id string) (*flexd.FlexCluster, error) {
	return getOne(ctx, s.run(), "cluster "+id,
		"SELECT "+flexClusterColumns+" FROM flex_clusters WHERE id = ?", []any{id}, scanFlexCluster)
}

// ListFlexClusters lists a project's clusters in creation order, from the
// (group_id, create_date, id) index.
func (s *Store) ListFlexClusters(ctx context.Context, groupID string, p flexd.Page) ([]flexd.FlexCluster, int, error) {
	return listPage(ctx, s, flexClustersList(s.dialect, groupID), p, scanFlexCluster)
}

func flexClustersList(d Dialect, groupID string) listQuery {
	q := listQuery{
		what:    "list clusters of project " + groupID,
		columns: flexClusterColumns,
		from:    "flex_clusters",
		where:   where{dialect: d},
		orderBy: "create_date, id",
	}
	q.where.eq("group_id", groupID)
	return q
}

// UpdateFlexCluster writes c's mutable fields: StateName, Tags,
// TerminationProtectionEnabled and MongoDBVersion. A cluster DELETING stays
// so (ErrNotFound): c was read before the delete began.
func (s *Store) UpdateFlexCluster(ctx context.Context, c *flexd.FlexCluster) error {
	return updateFlexCluster(ctx, s.run(), c, "(state_name <> ? OR state_name = ?)", flexd.ClusterDeleting, c.StateName)
}

// updateFlexCluster writes c's mutable fields where cond (on the row's
// current values, with its args) holds; flexd.ErrNotFound when it does not.
func updateFlexCluster(ctx context.Context, r runner, c *flexd.FlexCluster, cond string, args ...any) error {
	err := r.s.writeOne(ctx, r, "update cluster "+c.ID,
		"UPDATE flex_clusters SET state_name = ?, tags = ?, termination_protection_enabled = ?, mongodb_version = ? "+
			"WHERE id = ? AND "+cond,
		append([]any{c.StateName, tagsValue(c.Tags), c.TerminationProtectionEnabled, c.MongoDBVersion, c.ID}, args...)...)
	if err != nil {
		return err
	}
	r.touch(flexd.ClusterParent(c.ID))
	c.Tags = normalTags(c.Tags)
	return nil
}

// DeleteFlexCluster deletes the cluster with its snapshots and the restore
// jobs listed under it, in one transaction. The cluster row is locked first,
// so a snapshot or job inserted meanwhile is either deleted with it or
// refused for want of its cluster.
func (s *Store) DeleteFlexCluster(ctx context.Context, id string) error {
	return s.inTx(ctx, func(r runner) error { return deleteFlexCluster(ctx, r, id) })
}

func deleteFlexCluster(ctx context.Context, r runner, id string) error {
	what := "delete cluster " + id
	var groupID string
	if err := r.queryRow(ctx, "SELECT group_id FROM flex_clusters WHERE id = ?"+r.s.dialect.ForUpdate(), id).
		Scan(&groupID); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("cluster %s: %w", id, flexd.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("lock cluster %s: %w", id, err)
	}
	r.touch(flexd.ProjectParent(groupID), flexd.ClusterParent(id))
	for _, q := range []string{
		"DELETE FROM restore_applications WHERE restore_job_id IN (SELECT id FROM restore_jobs WHERE cluster_id = ?)",
		"DELETE FROM restore_jobs WHERE cluster_id = ?",
		"DELETE FROM snapshot_artifacts WHERE snapshot_id IN (SELECT id FROM snapshots WHERE cluster_id = ?)",
		"DELETE FROM snapshots WHERE cluster_id = ?",
		"DELETE FROM lifecycle_faults WHERE cluster_id = ?",
		"DELETE FROM flex_clusters WHERE id = ?",
	} {
		if _, err := r.exec(ctx, q, id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
