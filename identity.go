package flexd

import (
	"context"
	"slices"
	"time"
)

// ProjectRoles are the roles a principal holds in one project.
type ProjectRoles struct {
	GroupID string
	Roles   []Role
}

// Grants are the roles an API key or a service account holds: organization
// roles in its one organization, and project roles per project of it
// (sorted by GroupID, so that two equal grants compare equal). Both kinds of
// principal carry them the same way, so one rule turns them into a
// Principal and one set of checks validates them.
type Grants struct {
	OrgRoles []Role
	Projects []ProjectRoles
}

// RolesIn returns the roles held in project groupID (nil when none).
func (g Grants) RolesIn(groupID string) []Role {
	for _, p := range g.Projects {
		if p.GroupID == groupID {
			return p.Roles
		}
	}
	return nil
}

// Principal returns the caller these grants describe, for organization
// orgID.
func (g Grants) Principal(kind, id, name, orgID string) *Principal {
	p := &Principal{Kind: kind, ID: id, Name: name, OrgID: orgID,
		OrgRoles: slices.Clone(g.OrgRoles), GroupRoles: make(map[string][]Role, len(g.Projects))}
	for _, pr := range g.Projects {
		p.GroupRoles[pr.GroupID] = slices.Clone(pr.Roles)
	}
	return p
}

// Principal kinds.
const (
	KindAPIKey         = "apiKey"
	KindServiceAccount = "serviceAccount"
)

// APIKey is an Atlas programmatic API key, authenticated with HTTP Digest.
// Of its private key only what Digest verification needs is kept, the HA1
// values H(publicKey:realm:privateKey) for MD5 and SHA-256, and the last 12
// characters that Atlas shows masked on every read.
type APIKey struct {
	ID        string // 24 hex digits ("apiUserId" on the wire)
	OrgID     string
	PublicKey string // 8 lowercase letters: the Digest username
	Desc      string
	Grants
	HA1MD5    string
	HA1SHA256 string
	// PrivateKeyTail is the private key's last 12 characters, all that
	// reads show of it (masked, as Atlas does); empty for keys created
	// before flexd kept it.
	PrivateKeyTail string
	Created        time.Time
	// PrivateKey is set only on the value a create returns, so the
	// response can show it once; no store ever sees it.
	PrivateKey string
}

// PrivateKeyTailLength is how much of a private key Atlas shows after
// creation: the last 12 characters (a UUID's last group), masked as
// "********-****-****-" + tail.
const PrivateKeyTailLength = 12

// PrivateKeyTail returns the part of privateKey a read may show.
func PrivateKeyTail(privateKey string) string {
	if len(privateKey) < 3*PrivateKeyTailLength {
		// Shorter than Atlas's 36-character keys (an administrator's own
		// FLEXD_ADMIN_PRIVATE_KEY): 12 characters would give away too much.
		return ""
	}
	return privateKey[len(privateKey)-PrivateKeyTailLength:]
}

// APIKeyFilter narrows a list of API keys: the keys of an organization, or
// those assigned to a project. Empty fields match all.
type APIKeyFilter struct {
	OrgID   string
	GroupID string
}

// ServiceAccount is an Atlas service account, authenticated with OAuth 2.0
// client credentials.
type ServiceAccount struct {
	ClientID    string // mdb_sa_id_<24 hex>
	OrgID       string
	Name        string
	Description string
	Grants
	CreatedAt time.Time
	Secrets   []ServiceAccountSecret // oldest first
}

// ServiceAccountFilter narrows a list of service accounts, as APIKeyFilter.
type ServiceAccountFilter struct {
	OrgID   string
	GroupID string
}

// ServiceAccountSecret is one client secret of a service account. The store
// keeps its bcrypt hash and a masked form for display.
type ServiceAccountSecret struct {
	ID                string
	ClientID          string
	Hash              string
	MaskedSecretValue string
	CreatedAt         time.Time
	ExpiresAt         time.Time
	LastUsedAt        time.Time // zero: never used
	// Secret is set only on the value a create returns, to be shown once.
	Secret string
}

// AccessToken is an OAuth access token as stored: the SHA-256 digest of the
// token, never the token. SecretID names the secret it was issued against,
// so that deleting the secret revokes it.
type AccessToken struct {
	Digest    string
	Subject   string // the service account's client id
	SecretID  string
	ExpiresAt time.Time
	Revoked   bool
}

// IdentityStore is the storage contract for credentials. Secrets are never
// handed to it in clear: API keys arrive as HA1 values, client secrets as
// hashes, tokens as digests.
type IdentityStore interface {
	// CreateAPIKey stores k with its grants: ErrConflict when its id or
	// public key is taken, ErrNotFound when its organization or a project
	// does not exist.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (*APIKey, error)
	// ListAPIKeys lists keys in creation (id) order.
	ListAPIKeys(ctx context.Context, f APIKeyFilter, p Page) ([]APIKey, int, error)
	// UpdateAPIKey writes the fields c sets and no other, in one
	// statement: two updates of different fields never undo each other
	// (ErrNotFound for an unknown key). Project roles change only through
	// SetAPIKeyProjectRoles and UpdateAPIKeyProjectRoles.
	UpdateAPIKey(ctx context.Context, id string, c APIKeyChange) error
	// SetAPIKeyProjectRoles replaces the key's roles in one project,
	// assigning it if need be; no roles removes it from the project
	// (ErrNotFound if it was not there).
	SetAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []Role) error
	// UpdateAPIKeyProjectRoles replaces the roles of a key assigned to the
	// project, and is ErrNotFound when it is not (any more): a change of
	// roles racing an unassignment never assigns the key again.
	UpdateAPIKeyProjectRoles(ctx context.Context, id, groupID string, roles []Role) error
	DeleteAPIKey(ctx context.Context, id string) error

	// CreateServiceAccount stores a with its grants and secrets, as
	// CreateAPIKey.
	CreateServiceAccount(ctx context.Context, a *ServiceAccount) error
	GetServiceAccount(ctx context.Context, clientID string) (*ServiceAccount, error)
	ListServiceAccounts(ctx context.Context, f ServiceAccountFilter, p Page) ([]ServiceAccount, int, error)
	// UpdateServiceAccount writes the fields c sets and no other, as
	// UpdateAPIKey.
	UpdateServiceAccount(ctx context.Context, clientID string, c ServiceAccountChange) error
	SetServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []Role) error
	// UpdateServiceAccountProjectRoles is UpdateAPIKeyProjectRoles for
	// service accounts.
	UpdateServiceAccountProjectRoles(ctx context.Context, clientID, groupID string, roles []Role) error
	// ListServiceAccountProjects lists the ids of the projects the account
	// is assigned to, in id order.
	ListServiceAccountProjects(ctx context.Context, clientID string, p Page) ([]string, int, error)
	// DeleteServiceAccount deletes the account and its secrets and revokes
	// every token issued to it, in one transaction.
	DeleteServiceAccount(ctx context.Context, clientID string) error
	// CreateServiceAccountSecret adds a secret unless the account already
	// has max of them (ErrConflict).
	CreateServiceAccountSecret(ctx context.Context, s *ServiceAccountSecret, max int) error
	// DeleteServiceAccountSecret deletes a secret and revokes the tokens
	// issued against it, in one transaction.
	DeleteServiceAccountSecret(ctx context.Context, clientID, id string) error
	// ReplaceServiceAccountSecrets deletes every secret of the account
	// (revoking their tokens) and stores s instead.
	ReplaceServiceAccountSecrets(ctx context.Context, s *ServiceAccountSecret) error
	// TouchServiceAccountSecret records that the secret was used at at.
	TouchServiceAccountSecret(ctx context.Context, id string, at time.Time) error

	// CreateAccessToken fails with ErrConflict on a digest already stored.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	GetAccessToken(ctx context.Context, digest string) (*AccessToken, error)
	// RevokeAccessToken revokes the token if it belongs to subject, and
	// does nothing otherwise.
	RevokeAccessToken(ctx context.Context, subject, digest string) error
	// UseNonce records a Digest (nonce, nc) pair and reports whether it was
	// unseen; the pair may be forgotten after expires.
	UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) (bool, error)
	// DeleteExpiredCredentials forgets nonces and tokens that expired
	// before now.
	DeleteExpiredCredentials(ctx context.Context, now time.Time) error
	// ServerKey returns the server key stored under name, storing
	// candidate first if there is none, so that every replica and every
	// restart agrees on one key.
	ServerKey(ctx context.Context, name string, candidate []byte) ([]byte, error)
}

// APIKeyChange is what a store update of an API key writes: the fields
// that are set, and only those. Writing back fields read earlier would undo
// a concurrent change to them (a revoked role would come back).
type APIKeyChange struct {
	Desc     *string
	OrgRoles *[]Role
	// Credentials replaces what the key keeps of its private key.
	Credentials *APIKeyCredentials
}

// APIKeyCredentials is what an API key keeps of its private key: the
// Digest HA1 values and the last characters shown masked.
type APIKeyCredentials struct {
	HA1MD5, HA1SHA256, PrivateKeyTail string
}

// ServiceAccountChange is APIKeyChange for service accounts.
type ServiceAccountChange struct {
	Name        *string
	Description *string
	OrgRoles    *[]Role
}

// APIKeyCreate is what a caller may set when creating an API key.
type APIKeyCreate struct {
	Desc  string
	Roles []Role
}

// APIKeyUpdate holds what a PATCH may change; nil leaves a field as is.
type APIKeyUpdate struct {
	Desc  *string
	Roles *[]Role
}

// APIKeyService manages API keys of an organization and their project
// assignments. Every call names the organization or project of the path,
// and a key of any other organization is API_KEY_NOT_FOUND.
type APIKeyService interface {
	ListOrgAPIKeys(ctx context.Context, orgID string, p Page) ([]APIKey, int, error)
	GetOrgAPIKey(ctx context.Context, orgID, id string) (*APIKey, error)
	CreateOrgAPIKey(ctx context.Context, orgID string, c APIKeyCreate) (*APIKey, error)
	UpdateOrgAPIKey(ctx context.Context, orgID, id string, u APIKeyUpdate) (*APIKey, error)
	DeleteOrgAPIKey(ctx context.Context, orgID, id string) error

	ListProjectAPIKeys(ctx context.Context, groupID string, p Page) ([]APIKey, int, error)
	// CreateProjectAPIKey creates a key with roles in the project that is
	// an Organization Member of the project's organization, as in Atlas.
	CreateProjectAPIKey(ctx context.Context, groupID string, c APIKeyCreate) (*APIKey, error)
	AssignProjectAPIKey(ctx context.Context, groupID, id string, roles []Role) error
	UpdateProjectAPIKey(ctx context.Context, groupID, id string, u APIKeyUpdate) (*APIKey, error)
	UnassignProjectAPIKey(ctx context.Context, groupID, id string) error
}

// ServiceAccountCreate is what a caller may set when creating a service
// account; the roles are organization roles at the organization scope and
// project roles at the project scope.
type ServiceAccountCreate struct {
	Name                    string
	Description             string
	Roles                   []Role
	SecretExpiresAfterHours int
}

// ServiceAccountUpdate holds what a PATCH may change; nil leaves a field.
type ServiceAccountUpdate struct {
	Name        *string
	Description *string
	Roles       *[]Role
}

// ServiceAccountService manages service accounts and their secrets, scoped
// like APIKeyService: an account of another organization, or one not
// assigned to the project of the path, is SERVICE_ACCOUNT_NOT_FOUND.
type ServiceAccountService interface {
	ListOrgServiceAccounts(ctx context.Context, orgID string, p Page) ([]ServiceAccount, int, error)
	GetOrgServiceAccount(ctx context.Context, orgID, clientID string) (*ServiceAccount, error)
	CreateOrgServiceAccount(ctx context.Context, orgID string, c ServiceAccountCreate) (*ServiceAccount, error)
	UpdateOrgServiceAccount(ctx context.Context, orgID, clientID string, u ServiceAccountUpdate) (*ServiceAccount, error)
	DeleteOrgServiceAccount(ctx context.Context, orgID, clientID string) error
	ListServiceAccountProjects(ctx context.Context, orgID, clientID string, p Page) ([]string, int, error)
	CreateServiceAccountSecret(ctx context.Context, orgID, clientID string, expiresAfterHours int) (*ServiceAccountSecret, error)
	DeleteServiceAccountSecret(ctx context.Context, orgID, clientID, secretID string) error

	ListProjectServiceAccounts(ctx context.Context, groupID string, p Page) ([]ServiceAccount, int, error)
	GetProjectServiceAccount(ctx context.Context, groupID, clientID string) (*ServiceAccount, error)
	// CreateProjectServiceAccount creates an account with roles in the
	// project that is an Organization Member of its organization.
	CreateProjectServiceAccount(ctx context.Context, groupID string, c ServiceAccountCreate) (*ServiceAccount, error)
	UpdateProjectServiceAccount(ctx context.Context, groupID, clientID string, u ServiceAccountUpdate) (*ServiceAccount, error)
	RemoveProjectServiceAccount(ctx context.Context, groupID, clientID string) error
	InviteProjectServiceAccount(ctx context.Context, groupID, clientID string, roles []Role) (*ServiceAccount, error)
}
