package atlasapi_test

// Code below the marker is generated from flexd.Store's method set (every
// method but Ping and Close), so that no store call goes uncounted.

import (
	"context"
	"sync"
	"time"

	"github.com/flexd/flexd"
)

// countingStore is a flexd.Store that records the name of every call made
// through it, for tests that count the store calls of a request.
type countingStore struct {
	flexd.Store
	mu    sync.Mutex
	calls []string
}

func (c *countingStore) called(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name)
}

// take returns the calls recorded since the last take and forgets them.
func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

// --- generated ---

func (cs *countingStore) CreateOrganization(ctx context.Context, o *flexd.Organization) error {
	cs.called("CreateOrganization")
	return cs.Store.CreateOrganization(ctx, o)
}

func (cs *countingStore) GetOrganization(ctx context.Context, id string) (*flexd.Organization, error) {
	cs.called("GetOrganization")
	return cs.Store.GetOrganization(ctx, id)
}

func (cs *countingStore) ListOrganizations(ctx context.Context, f flexd.OrganizationFilter, p flexd.Page) ([]flexd.Organization, int, error) {
	cs.called("ListOrganizations")
	return cs.Store.ListOrganizations(ctx, f, p)
}

func (cs *countingStore) CreateProject(ctx context.Context, p *flexd.Project) error {
	cs.called("CreateProject")
	return cs.Store.CreateProject(ctx, p)
}

func (cs *countingStore) GetProject(ctx context.Context, id string) (*flexd.Project, error) {
	cs.called("GetProject")
	return cs.Store.GetProject(ctx, id)
}

func (cs *countingStore) ListProjects(ctx context.Context, f flexd.ProjectFilter, p flexd.Page) ([]flexd.Project, int, error) {
	cs.called("ListProjects")
	return cs.Store.ListProjects(ctx, f, p)
}

func (cs *countingStore) UpdateProject(ctx context.Context, p *flexd.Project) error {
	cs.called("UpdateProject")
	return cs.Store.UpdateProject(ctx, p)
}

func (cs *countingStore) DeleteProject(ctx context.Context, id string) error {
	cs.called("DeleteProject")
	return cs.Store.DeleteProject(ctx, id)
}

func (cs *countingStore) CreateFlexCluster(ctx context.Context, c *flexd.FlexCluster) error {
	cs.called("CreateFlexCluster")
	return cs.Store.CreateFlexCluster(ctx, c)
}

func (cs *countingStore) GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	cs.called("GetFlexCluster")
	return cs.Store.GetFlexCluster(ctx, groupID, name)
}

func (cs *countingStore) GetFlexClusterByID(ctx context.Context, id string) (*flexd.FlexCluster, error) {
	cs.called("GetFlexClusterByID")
	return cs.Store.GetFlexClusterByID(ctx, id)
}

func (cs *countingStore) ListFlexClusters(ctx context.Context, groupID string, p flexd.Page) ([]flexd.FlexCluster, int, error) {
	cs.called("ListFlexClusters")
	return cs.Store.ListFlexClusters(ctx, groupID, p)
}

func (cs *countingStore) UpdateFlexCluster(ctx context.Context, c *flexd.FlexCluster) error {
	cs.called("UpdateFlexCluster")
	return cs.Store.UpdateFlexCluster(ctx, c)
}

func (cs *countingStore) DeleteFlexCluster(ctx context.Context, id string) error {
	cs.called("DeleteFlexCluster")
	return cs.Store.DeleteFlexCluster(ctx, id)
}

func (cs *countingStore) CreateSnapshot(ctx context.Context, s *flexd.Snapshot) error {
	cs.called("CreateSnapshot")
	return cs.Store.CreateSnapshot(ctx, s)
}

func (cs *countingStore) GetSnapshot(ctx context.Context, clusterID, id string) (*flexd.Snapshot, error) {
	cs.called("GetSnapshot")
	return cs.Store.GetSnapshot(ctx, clusterID, id)
}

func (cs *countingStore) ListSnapshots(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.Snapshot, int, error) {
	cs.called("ListSnapshots")
	return cs.Store.ListSnapshots(ctx, clusterID, p)
}

func (cs *countingStore) UpdateSnapshot(ctx context.Context, s *flexd.Snapshot) error {
	cs.called("UpdateSnapshot")
	return cs.Store.UpdateSnapshot(ctx, s)
}

func (cs *countingStore) DeleteSnapshot(ctx context.Context, id string) error {
	cs.called("DeleteSnapshot")
	return cs.Store.DeleteSnapshot(ctx, id)
}

func (cs *countingStore) CreateRestoreJob(ctx context.Context, j *flexd.RestoreJob) error {
	cs.called("CreateRestoreJob")
	return cs.Store.CreateRestoreJob(ctx, j)
}

func (cs *countingStore) GetRestoreJob(ctx context.Context, clusterID, id string) (*flexd.RestoreJob, error) {
	cs.called("GetRestoreJob")
	return cs.Store.GetRestoreJob(ctx, clusterID, id)
}

func (cs *countingStore) GetDownload(ctx context.Context, token string) (*flexd.RestoreJob, error) {
	cs.called("GetDownload")
	return cs.Store.GetDownload(ctx, token)
}

func (cs *countingStore) ListRestoreJobs(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.RestoreJob, int, error) {
	cs.called("ListRestoreJobs")
	return cs.Store.ListRestoreJobs(ctx, clusterID, p)
}

func (cs *countingStore) UpdateRestoreJob(ctx context.Context, j *flexd.RestoreJob) error {
	cs.called("UpdateRestoreJob")
	return cs.Store.UpdateRestoreJob(ctx, j)
}

func (cs *countingStore) CreateAPIKey(ctx context.Context, k *flexd.APIKey) error {
	cs.called("CreateAPIKey")
	return cs.Store.CreateAPIKey(ctx, k)
}

func (cs *countingStore) GetAPIKey(ctx context.Context, id string) (*flexd.APIKey, error) {
	cs.called("GetAPIKey")
	return cs.Store.GetAPIKey(ctx, id)
}

func (cs *countingStore) GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (*flexd.APIKey, error) {
	cs.called("GetAPIKeyByPublicKey")
	return cs.Store.GetAPIKeyByPublicKey(ctx, publicKey)
}

func (cs *countingStore) ListAPIKeys(ctx context.Context, f flexd.APIKeyFilter, p flexd.Page) ([]flexd.APIKey, int, error) {
	cs.called("ListAPIKeys")
	return cs.Store.ListAPIKeys(ctx, f, p)
}

func (cs *countingStore) UpdateAPIKey(ctx context.Context, id string, c flexd.APIKeyChange) error {
	cs.called("UpdateAPIKey")
	return cs.Store.UpdateAPIKey(ctx, id, c)
}

func (cs *countingStore) UpdateAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []flexd.Role) error {
	cs.called("UpdateAPIKeyProjectRoles")
	return cs.Store.UpdateAPIKeyProjectRoles(ctx, id, groupID, roles)
}

func (cs *countingStore) SetAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []flexd.Role) error {
	cs.called("SetAPIKeyProjectRoles")
	return cs.Store.SetAPIKeyProjectRoles(ctx, id, groupID, roles)
}

func (cs *countingStore) DeleteAPIKey(ctx context.Context, id string) error {
	cs.called("DeleteAPIKey")
	return cs.Store.DeleteAPIKey(ctx, id)
}

func (cs *countingStore) CreateServiceAccount(ctx context.Context, a *flexd.ServiceAccount) error {
	cs.called("CreateServiceAccount")
	return cs.Store.CreateServiceAccount(ctx, a)
}

func (cs *countingStore) GetServiceAccount(ctx context.Context, clientID string) (*flexd.ServiceAccount, error) {
	cs.called("GetServiceAccount")
	return cs.Store.GetServiceAccount(ctx, clientID)
}

func (cs *countingStore) ListServiceAccounts(ctx context.Context, f flexd.ServiceAccountFilter, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
	cs.called("ListServiceAccounts")
	return cs.Store.ListServiceAccounts(ctx, f, p)
}

func (cs *countingStore) UpdateServiceAccount(ctx context.Context, clientID string, c flexd.ServiceAccountChange) error {
	cs.called("UpdateServiceAccount")
	return cs.Store.UpdateServiceAccount(ctx, clientID, c)
}

func (cs *countingStore) UpdateServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []flexd.Role) error {
	cs.called("UpdateServiceAccountProjectRoles")
	return cs.Store.UpdateServiceAccountProjectRoles(ctx, clientID, groupID, roles)
}

func (cs *countingStore) SetServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []flexd.Role) error {
	cs.called("SetServiceAccountProjectRoles")
	return cs.Store.SetServiceAccountProjectRoles(ctx, clientID, groupID, roles)
}

func (cs *countingStore) ListServiceAccountProjects(ctx context.Context, clientID string, p flexd.Page) ([]string, int, error) {
	cs.called("ListServiceAccountProjects")
	return cs.Store.ListServiceAccountProjects(ctx, clientID, p)
}

func (cs *countingStore) DeleteServiceAccount(ctx context.Context, clientID string) error {
	cs.called("DeleteServiceAccount")
	return cs.Store.DeleteServiceAccount(ctx, clientID)
}

func (cs *countingStore) CreateServiceAccountSecret(ctx context.Context, s *flexd.ServiceAccountSecret, max int) error {
	cs.called("CreateServiceAccountSecret")
	return cs.Store.CreateServiceAccountSecret(ctx, s, max)
}

func (cs *countingStore) DeleteServiceAccountSecret(ctx context.Context, clientID, id string) error {
	cs.called("DeleteServiceAccountSecret")
	return cs.Store.DeleteServiceAccountSecret(ctx, clientID, id)
}

func (cs *countingStore) ReplaceServiceAccountSecrets(ctx context.Context, s *flexd.ServiceAccountSecret) error {
	cs.called("ReplaceServiceAccountSecrets")
	return cs.Store.ReplaceServiceAccountSecrets(ctx, s)
}

func (cs *countingStore) TouchServiceAccountSecret(ctx context.Context, id string, at time.Time) error {
	cs.called("TouchServiceAccountSecret")
	return cs.Store.TouchServiceAccountSecret(ctx, id, at)
}

func (cs *countingStore) CreateAccessToken(ctx context.Context, t *flexd.AccessToken) error {
	cs.called("CreateAccessToken")
	return cs.Store.CreateAccessToken(ctx, t)
}

func (cs *countingStore) GetAccessToken(ctx context.Context, digest string) (*flexd.AccessToken, error) {
	cs.called("GetAccessToken")
	return cs.Store.GetAccessToken(ctx, digest)
}

func (cs *countingStore) RevokeAccessToken(ctx context.Context, subject, digest string) error {
	cs.called("RevokeAccessToken")
	return cs.Store.RevokeAccessToken(ctx, subject, digest)
}

func (cs *countingStore) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) (bool, error) {
	cs.called("UseNonce")
	return cs.Store.UseNonce(ctx, nonce, nc, expires)
}

func (cs *countingStore) DeleteExpiredCredentials(ctx context.Context, now time.Time) error {
	cs.called("DeleteExpiredCredentials")
	return cs.Store.DeleteExpiredCredentials(ctx, now)
}

func (cs *countingStore) ServerKey(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	cs.called("ServerKey")
	return cs.Store.ServerKey(ctx, name, candidate)
}
