package atlasapi

import (
	"errors"
	"net/http"
)

// getCluster answers the dedicated-cluster read that the Atlas CLI calls to
// tell a Flex cluster apart. flexd has only Flex clusters, so the service
// always answers with an error: CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API for a
// Flex cluster, CLUSTER_NOT_FOUND otherwise.
func (s *server) getCluster() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		err := s.cfg.Clusters.GetCluster(r.Context(), r.PathValue("groupId"), r.PathValue("clusterName"))
		if err == nil {
			err = errors.New("GetCluster returned no error: flexd has no dedicated clusters to describe")
		}
		return err
	})
}
