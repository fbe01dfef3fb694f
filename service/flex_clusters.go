package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flexd/flexd"
)

// flexDiskSizeGB is the storage every Flex cluster has.
const flexDiskSizeGB = 5.0

// CreateFlexCluster validates and stores a new cluster in CREATING and hands
// it to the engine to provision.
func (s *Service) CreateFlexCluster(ctx context.Context, groupID string, c flexd.FlexClusterCreate) (*flexd.FlexCluster, error) {
	if _, err := s.GetProject(ctx, groupID); err != nil {
		return nil, err
	}
	cl, err := s.NewFlexCluster(groupID, c, s.clock.Now())
	if err != nil {
		return nil, err
	}
	var created flexd.FlexCluster
	err = s.store.InTx(ctx, func(tx flexd.Tx) error {
		if err := tx.CreateFlexCluster(ctx, cl); err != nil {
			return err
		}
		created = *cl
		return s.engine.Provision(ctx, tx, cl)
	})
	if isConflict(err) {
		return nil, flexd.DuplicateClusterName(c.Name, groupID)
	}
	if err != nil {
		return nil, internal("create flex cluster", err)
	}
	return &created, nil
}

// NewFlexCluster validates c and returns the cluster a create stores:
// CREATING, created at now, with its disk size, MongoDB version and
// connection strings. It stores nothing; seeding (package seed) uses it so
// that a seeded cluster is the same as one the API creates.
func (s *Service) NewFlexCluster(groupID string, c flexd.FlexClusterCreate, now time.Time) (*flexd.FlexCluster, error) {
	if err := validateClusterName(c.Name); err != nil {
		return nil, err
	}
	regions, ok := flexRegions[c.BackingProviderName]
	if !ok {
		return nil, flexd.InvalidProvider(c.BackingProviderName)
	}
	if !regions[c.RegionName] {
		return nil, flexd.InvalidRegion(c.RegionName, c.BackingProviderName)
	}
	if err := validateTags(c.Tags); err != nil {
		return nil, err
	}
	cl := &flexd.FlexCluster{
		ID:                           flexd.NewID(now),
		GroupID:                      groupID,
		Name:                         c.Name,
		BackingProviderName:          c.BackingProviderName,
		RegionName:                   c.RegionName,
		DiskSizeGB:                   flexDiskSizeGB,
		MongoDBVersion:               s.cfg.MongoDBVersion,
		StateName:                    flexd.ClusterCreating,
		Tags:                         cloneTags(c.Tags),
		TerminationProtectionEnabled: c.TerminationProtectionEnabled,
		CreateDate:                   now,
	}
	cl.StandardConnectionString, cl.SrvConnectionString = s.connectionStrings(groupID, c.Name)
	return cl, nil
}

// connectionStrings derives stable, cluster-specific connection strings the
// way Atlas shapes them: a per-project host label under the service domain.
// The SRV one exists only under a configured SRVDomain.
func (s *Service) connectionStrings(groupID, name string) (standard, srv string) {
	sum := sha256.Sum256([]byte(groupID))
	label := hex.EncodeToString(sum[:])[:5]
	if s.cfg.SRVDomain != "" {
		srv = fmt.Sprintf("mongodb+srv://%s.%s.%s", strings.ToLower(name), label, s.cfg.SRVDomain)
	}
	standard = fmt.Sprintf("mongodb://%s-shard-00-00.%s.%s:27017,%s-shard-00-01.%s.%s:27017,%s-shard-00-02.%s.%s:27017/?ssl=true&authSource=admin",
		strings.ToLower(name), label, s.cfg.ConnectionDomain,
		strings.ToLower(name), label, s.cfg.ConnectionDomain,
		strings.ToLower(name), label, s.cfg.ConnectionDomain)
	return standard, srv
}

// GetFlexCluster returns a cluster of the project or CLUSTER_NOT_FOUND.
func (s *Service) GetFlexCluster(ctx context.Context, project *flexd.Project, name string) (*flexd.FlexCluster, error) {
	return s.cluster(ctx, project.ID, name)
}

// clusterIn looks a cluster up by project id and name: GROUP_NOT_FOUND or
// CLUSTER_NOT_FOUND.
func (s *Service) clusterIn(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	if _, err := s.GetProject(ctx, groupID); err != nil {
		return nil, err
	}
	return s.cluster(ctx, groupID, name)
}

// cluster looks a cluster up by name in a project known to exist.
func (s *Service) cluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	return getCluster(ctx, s.store, groupID, name)
}

// getCluster reads cluster name of project groupID through r (the store,
// or a unit of work). A name no cluster can have is CLUSTER_NOT_FOUND like
// one that is not there.
func getCluster(ctx context.Context, r interface {
	GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error)
}, groupID, name string) (*flexd.FlexCluster, error) {
	if !ValidClusterName(name) {
		return nil, clusterErr(flexd.ErrNotFound, groupID, name)
	}
	c, err := r.GetFlexCluster(ctx, groupID, name)
	if err != nil {
		return nil, clusterErr(err, groupID, name)
	}
	return c, nil
}

// clusterErr answers a store error about cluster name of project groupID:
// CLUSTER_NOT_FOUND when there is no such cluster, otherwise a failure.
func clusterErr(err error, groupID, name string) error {
	if isNotFound(err) {
		return flexd.ClusterNotFound(name, groupID)
	}
	return internal("get flex cluster "+name, err)
}

// ListFlexClusters lists a project's clusters in creation order.
func (s *Service) ListFlexClusters(ctx context.Context, project *flexd.Project, p flexd.Page) ([]flexd.FlexCluster, int, error) {
	cs, total, err := s.store.ListFlexClusters(ctx, project.ID, p)
	if err != nil {
		return nil, 0, internal("list flex clusters", err)
	}
	return cs, total, nil
}

// UpdateFlexCluster changes tags and termination protection.
func (s *Service) UpdateFlexCluster(ctx context.Context, groupID, name string, u flexd.FlexClusterUpdate) (*flexd.FlexCluster, error) {
	// A missing cluster answers before a bad body does.
	if _, err := s.clusterIn(ctx, groupID, name); err != nil {
		return nil, err
	}
	if u.Tags != nil {
		if err := validateTags(*u.Tags); err != nil {
			return nil, err
		}
	}
	var updated flexd.FlexCluster
	err := s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		if c.StateName == flexd.ClusterDeleting {
			return flexd.ClusterAlreadyRequestedDeletion(name)
		}
		if u.Tags != nil {
			c.Tags = cloneTags(*u.Tags)
		}
		if u.TerminationProtectionEnabled != nil {
			c.TerminationProtectionEnabled = *u.TerminationProtectionEnabled
		}
		// An IDLE cluster passes through UPDATING; one still CREATING, or
		// UPDATING under a restore, keeps its state, which its own work
		// ends.
		from := c.StateName
		if from == flexd.ClusterIdle {
			c.StateName = flexd.ClusterUpdating
		}
		if err := tx.UpdateFlexCluster(ctx, c, from); err != nil {
			return err
		}
		updated = *c
		if from == flexd.ClusterIdle {
			return s.engine.Update(ctx, tx, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &updated, nil
}

// clusterInTx runs fn in a unit of work on the cluster, read and held in
// it, so that what fn writes is computed from the cluster as it is. Errors
// other than Atlas's are internal.
func (s *Service) clusterInTx(ctx context.Context, groupID, name string, fn func(tx flexd.Tx, c *flexd.FlexCluster) error) error {
	if _, err := s.GetProject(ctx, groupID); err != nil {
		return err
	}
	if !ValidClusterName(name) { // answered without a unit of work
		return clusterErr(flexd.ErrNotFound, groupID, name)
	}
	err := s.store.InTx(ctx, func(tx flexd.Tx) error {
		c, err := getCluster(ctx, tx, groupID, name)
		if err != nil {
			return err
		}
		return fn(tx, c)
	})
	var ae *flexd.Error
	if err != nil && !errors.As(err, &ae) {
		return internal("cluster "+name, err)
	}
	return err
}

// DeleteFlexCluster starts deleting a cluster unless termination protection
// is on.
func (s *Service) DeleteFlexCluster(ctx context.Context, groupID, name string) error {
	return s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		if c.TerminationProtectionEnabled {
			return flexd.CannotTerminateClusterWhenTerminationProtectionEnabled(name, groupID)
		}
		if c.StateName == flexd.ClusterDeleting {
			return flexd.ClusterAlreadyRequestedDeletion(name)
		}
		from := c.StateName
		c.StateName = flexd.ClusterDeleting
		if err := tx.UpdateFlexCluster(ctx, c, from); err != nil {
			return err
		}
		return s.engine.Delete(ctx, tx, c)
	})
}

// UpgradeFlexCluster answers :tenantUpgrade. flexd has no dedicated tiers to
// upgrade to, and says so in Atlas's shape rather than pretending.
func (s *Service) UpgradeFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	if _, err := s.clusterIn(ctx, groupID, name); err != nil {
		return nil, err
	}
	return nil, flexd.FeatureUnsupported(fmt.Sprintf("flexd emulates Flex clusters only; cluster %s cannot be upgraded to a dedicated tier.", name))
}

// CreateCluster answers POST /groups/{groupId}/clusters as
// UpgradeFlexCluster does: flexd emulates no dedicated tiers.
func (s *Service) CreateCluster(ctx context.Context, groupID string) error {
	return flexd.FeatureUnsupported("flexd emulates Flex clusters only; create one with POST /api/atlas/v2/groups/" + groupID + "/flexClusters.")
}

// GetCluster answers the dedicated-cluster read: a Flex cluster there is a
// 400 that tells clients to use the Flex API (the Atlas CLI relies on it).
func (s *Service) GetCluster(ctx context.Context, groupID, name string) error {
	c, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return err
	}
	return flexd.CannotUseFlexClusterInClusterAPI(c.Name)
}
