package service

import (
	"context"
	"errors"

	"github.com/flexd/flexd"
)

// maxBackendURI bounds a backend URI; real ones are far shorter.
const maxBackendURI = 4096

var _ flexd.BackendService = (*Service)(nil)

// SetBackends lets the service attach external deployments through the
// data plane's b; without it (the data plane is off) the backend routes
// answer FEATURE_UNSUPPORTED.
func (s *Service) SetBackends(b flexd.Backends) { s.backends = b }

func (s *Service) backendPlane() (flexd.Backends, error) {
	if s.backends == nil {
		return nil, flexd.FeatureUnsupported("attaching a MongoDB deployment needs the data plane, which is off on PostgreSQL (--postgres-url)")
	}
	return s.backends, nil
}

// GetBackend says which backend serves the cluster, never the URI.
func (s *Service) GetBackend(ctx context.Context, groupID, name string) (*flexd.BackendView, error) {
	var view *flexd.BackendView
	err := s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		b, err := tx.GetClusterBackend(ctx, c.ID)
		if err != nil && !isNotFound(err) {
			return err
		}
		view = backendView(c, b)
		return nil
	})
	return view, err
}

// AttachBackend checks the deployment uri names (outside any unit of work:
// it is a network round trip), then records it as the cluster's backend
// with the cluster's connection string, while the cluster is IDLE. Once
// committed the embedded endpoint closes; its data stays for a detach.
func (s *Service) AttachBackend(ctx context.Context, groupID, name, uri string) (*flexd.BackendView, error) {
	plane, err := s.backendPlane()
	if err != nil {
		return nil, err
	}
	if len(uri) > maxBackendURI {
		return nil, flexd.InvalidBackendURI("longer than 4096 characters")
	}
	c, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return nil, err
	}
	if c.StateName != flexd.ClusterIdle { // answered before the deployment is dialled
		return nil, flexd.CannotChangeBackendOfClusterNotIdle(c.Name, c.StateName)
	}
	b, err := plane.CheckBackend(ctx, uri)
	if err != nil {
		var ae *flexd.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, flexd.BackendUnreachable("the deployment", "the connection could not be checked")
	}
	var view *flexd.BackendView
	err = s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		if c.StateName != flexd.ClusterIdle {
			return flexd.CannotChangeBackendOfClusterNotIdle(c.Name, c.StateName)
		}
		b.ClusterID, b.AttachedAt = c.ID, s.clock.Now()
		if err := tx.PutClusterBackend(ctx, b); err != nil {
			return err
		}
		c.StandardConnectionString = b.ConnectionString
		if err := tx.UpdateFlexCluster(ctx, c, flexd.ClusterIdle); err != nil {
			return err
		}
		id := c.ID
		tx.OnCommit(func() { plane.Attached(id) })
		view = backendView(c, b)
		return nil
	})
	return view, err
}

// DetachBackend makes an attached cluster embedded again: its embedded
// endpoint opens first (on its stored port when free), then the
// attachment goes and the cluster's port and connection string are the
// endpoint's, in one unit of work; if that fails the endpoint closes again.
func (s *Service) DetachBackend(ctx context.Context, groupID, name string) (*flexd.BackendView, error) {
	plane, err := s.backendPlane()
	if err != nil {
		return nil, err
	}
	c, err := s.clusterIn(ctx, groupID, name)
	if err != nil {
		return nil, err
	}
	if view, err := s.GetBackend(ctx, groupID, name); err != nil || view.Kind == flexd.BackendEmbedded {
		return view, err // embedded already: nothing changes
	}
	if c.StateName != flexd.ClusterIdle {
		return nil, flexd.CannotChangeBackendOfClusterNotIdle(c.Name, c.StateName)
	}
	change, err := plane.ServeEmbedded(ctx, c)
	if err != nil {
		return nil, internal("serve cluster "+name, err)
	}
	var view *flexd.BackendView
	err = s.clusterInTx(ctx, groupID, name, func(tx flexd.Tx, c *flexd.FlexCluster) error {
		if _, err := tx.GetClusterBackend(ctx, c.ID); isNotFound(err) {
			view = backendView(c, nil) // detached meanwhile
			return nil
		} else if err != nil {
			return err
		}
		if c.StateName != flexd.ClusterIdle {
			return flexd.CannotChangeBackendOfClusterNotIdle(c.Name, c.StateName)
		}
		if err := tx.DeleteClusterBackend(ctx, c.ID); err != nil {
			return err
		}
		change(c)
		if err := tx.UpdateFlexCluster(ctx, c, flexd.ClusterIdle); err != nil {
			return err
		}
		view = backendView(c, nil)
		return nil
	})
	if err != nil {
		plane.StopEmbedded(c.ID) // still attached: its embedded endpoint stays closed
	}
	return view, err
}

func backendView(c *flexd.FlexCluster, b *flexd.ClusterBackend) *flexd.BackendView {
	if b == nil {
		return &flexd.BackendView{Kind: flexd.BackendEmbedded, ConnectionString: c.StandardConnectionString}
	}
	return &flexd.BackendView{Kind: flexd.BackendExternal, Hosts: b.Hosts, ConnectionString: b.ConnectionString, AttachedAt: b.AttachedAt}
}
