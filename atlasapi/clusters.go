package atlasapi

import (
	"errors"
	"net/http"

	"github.com/flexd/flexd"
)

// The dedicated-cluster API (/groups/{groupId}/clusters). flexd has only
// Flex clusters, which Atlas keeps out of this API: the list is empty, a
// create is refused in Atlas's words, and a Flex cluster's name answers
// CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API, on which the Atlas CLI and
// Terraform switch to the Flex API (any other name: CLUSTER_NOT_FOUND).

// clusterView stands for ClusterDescription20240805; no value of it ever
// exists, as flexd has no dedicated clusters to describe.
type clusterView struct{}

// listClusters answers the cluster list: a valid empty page, whatever
// Flex clusters the project has (clients list those at /flexClusters).
func (s *server) listClusters() http.Handler {
	return list(s, func(r *http.Request, _ flexd.Page) ([]clusterView, int, error) {
		if _, err := boolParam(stateOf(r).query, "includeDeletedWithRetainedBackups", false); err != nil {
			return nil, 0, err
		}
		return nil, 0, nil
	}, func(_ string, c *clusterView) clusterView { return *c })
}

// createCluster refuses a dedicated cluster as :tenantUpgrade does.
func (s *server) createCluster() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return s.cfg.Clusters.CreateCluster(r.Context(), r.PathValue("groupId"))
	})
}

// clusterByName answers GET, PATCH and DELETE of one cluster: the service
// always answers with an error, CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API for
// a Flex cluster, CLUSTER_NOT_FOUND otherwise. A PATCH body is not read:
// no body can apply to a cluster that is not there.
func (s *server) clusterByName() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		err := s.cfg.Clusters.GetCluster(r.Context(), r.PathValue("groupId"), r.PathValue("clusterName"))
		if err == nil {
			err = errors.New("GetCluster returned no error: flexd has no dedicated clusters to describe")
		}
		return err
	})
}
