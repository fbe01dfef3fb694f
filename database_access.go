package flexd

import (
	"context"
	"time"
)

// Database access: who may connect to a project's clusters (database users,
// authenticated with SCRAM) and from where (the project IP access list).
// The Admin API manages both; the data plane's wire front enforces them
// (package dbauth holds what it calls).

// AdminDatabase is the authentication database of SCRAM users: Atlas
// creates every password user on admin.
const AdminDatabase = "admin"

// DatabaseUser is an Atlas database user of one project, authenticated with
// SCRAM. Of its password only the salted SCRAM keys are kept.
type DatabaseUser struct {
	GroupID      string
	DatabaseName string // always AdminDatabase for SCRAM users
	Username     string
	Description  string
	Roles        []DatabaseUserRole
	// Scopes are the clusters the user may reach; none means every
	// cluster of the project.
	Scopes []UserScope
	Labels []Tag
	// DeleteAfterDate, when set, is when the user stops existing: a
	// temporary user. flexd's clock decides.
	DeleteAfterDate time.Time
	SCRAM           SCRAMCredentials
	Created         time.Time
}

// Expired reports whether u is a temporary user whose time has come at now.
func (u *DatabaseUser) Expired(now time.Time) bool {
	return !u.DeleteAfterDate.IsZero() && !now.Before(u.DeleteAfterDate)
}

// Reaches reports whether u may connect to the cluster named cluster: a
// user without scopes reaches every cluster of its project.
func (u *DatabaseUser) Reaches(cluster string) bool {
	if len(u.Scopes) == 0 {
		return true
	}
	for _, s := range u.Scopes {
		if s.Type == ScopeCluster && s.Name == cluster {
			return true
		}
	}
	return false
}

// DatabaseUserRole grants one MongoDB role on one database (and, for the
// roles that allow it, one collection).
type DatabaseUserRole struct {
	RoleName       string `json:"roleName"`
	DatabaseName   string `json:"databaseName"`
	CollectionName string `json:"collectionName,omitempty"`
}

// UserScope names one resource a user may reach.
type UserScope struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ScopeCluster is the one scope type flexd serves: a cluster of the
// project.
const ScopeCluster = "CLUSTER"

// SCRAMKey is what a server needs to check a SCRAM proof for one hash
// function (RFC 5802): the salt and iteration count the client derives its
// keys with, and the StoredKey and ServerKey derived from the password.
// The password cannot be recovered from them.
type SCRAMKey struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// SCRAMCredentials are a user's keys for both mechanisms MongoDB drivers
// offer. SCRAM-SHA-1 keys are derived, as MongoDB does, from
// hex(MD5(username ":mongo:" password)); SCRAM-SHA-256 keys from the
// SASLprepped password.
type SCRAMCredentials struct {
	SHA1   SCRAMKey
	SHA256 SCRAMKey
}

// AccessListEntry is one entry of a project's IP access list: a CIDR block
// (a single address is a /32 or /128 block), keyed by its canonical form.
type AccessListEntry struct {
	GroupID string
	// CIDRBlock is the canonical block ("192.168.0.0/24",
	// "192.168.0.243/32", "2001:db8::/32").
	CIDRBlock string
	// IPAddress is set when the entry was created from a single address;
	// Atlas then shows both.
	IPAddress       string
	Comment         string
	DeleteAfterDate time.Time
	Created         time.Time
}

// Expired reports whether e is a temporary entry whose time has come at now.
func (e *AccessListEntry) Expired(now time.Time) bool {
	return !e.DeleteAfterDate.IsZero() && !now.Before(e.DeleteAfterDate)
}

// DatabaseAccessStore keeps database users and access lists. Both belong to
// a project and go with it.
type DatabaseAccessStore interface {
	// CreateDatabaseUser fails with ErrConflict when the project has a user
	// of that name on that database, ErrNotFound without the project.
	CreateDatabaseUser(ctx context.Context, u *DatabaseUser) error
	GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (*DatabaseUser, error)
	// ListDatabaseUsers lists the users that have not expired at asOf, in
	// creation order.
	ListDatabaseUsers(ctx context.Context, groupID string, asOf time.Time, p Page) ([]DatabaseUser, int, error)
	// UpdateDatabaseUser writes everything but the key (project, database,
	// username) and Created.
	UpdateDatabaseUser(ctx context.Context, u *DatabaseUser) error
	DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string) error
	// DeleteExpiredDatabaseUsers removes the project's users expired at now.
	DeleteExpiredDatabaseUsers(ctx context.Context, groupID string, now time.Time) error

	// PutAccessListEntries adds the entries to the project's list in one
	// transaction; an entry whose block is already listed replaces its
	// comment, address and deleteAfterDate. ErrNotFound without the project.
	PutAccessListEntries(ctx context.Context, groupID string, entries []AccessListEntry) error
	GetAccessListEntry(ctx context.Context, groupID, cidrBlock string) (*AccessListEntry, error)
	// ListAccessListEntries lists the entries that have not expired at
	// asOf, in creation order.
	ListAccessListEntries(ctx context.Context, groupID string, asOf time.Time, p Page) ([]AccessListEntry, int, error)
	DeleteAccessListEntry(ctx context.Context, groupID, cidrBlock string) error
	// DeleteExpiredAccessListEntries removes the project's entries expired
	// at now.
	DeleteExpiredAccessListEntries(ctx context.Context, groupID string, now time.Time) error
}

// AccessEnforcer hears of the changes to database access that must reach
// connections already open. The service tells it once a change has been
// stored; the data plane (dataplane.Plane) closes the connections the
// change no longer lets in. It runs in the process that serves the
// clusters: with the data plane off (PostgreSQL) there are none.
type AccessEnforcer interface {
	// DatabaseUserChanged: the user was deleted, or its password, roles
	// or scopes changed. Its connections end; its clients authenticate
	// again, with what holds now.
	DatabaseUserChanged(groupID, username string)
	// AccessListChanged: the project's IP access list lost entries. Every
	// connection to its clusters from an address it no longer holds ends.
	AccessListChanged(groupID string)
}

// DatabaseUserCreate is the body of a database user create: what the
// caller may set.
type DatabaseUserCreate struct {
	DatabaseName    string
	Username        string
	Password        string
	Description     string
	Roles           []DatabaseUserRole
	Scopes          []UserScope
	Labels          []Tag
	DeleteAfterDate time.Time
	// AuthTypes are the x509Type, ldapAuthType, awsIAMType and
	// oidcAuthType the body gave; flexd serves only NONE (SCRAM).
	AuthTypes map[string]string
}

// DatabaseUserUpdate changes the fields that are set.
type DatabaseUserUpdate struct {
	DatabaseName    *string
	Username        *string
	Password        *string
	Description     *string
	Roles           *[]DatabaseUserRole
	Scopes          *[]UserScope
	Labels          *[]Tag
	DeleteAfterDate *time.Time
	AuthTypes       map[string]string
}

// AccessListInput is one entry of an access list create.
type AccessListInput struct {
	IPAddress        string
	CIDRBlock        string
	AWSSecurityGroup string
	Comment          string
	DeleteAfterDate  time.Time
}

// DatabaseAccessService manages a project's database users and IP access
// list with Atlas's rules.
type DatabaseAccessService interface {
	ListDatabaseUsers(ctx context.Context, groupID string, p Page) ([]DatabaseUser, int, error)
	GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (*DatabaseUser, error)
	CreateDatabaseUser(ctx context.Context, groupID string, c DatabaseUserCreate) (*DatabaseUser, error)
	UpdateDatabaseUser(ctx context.Context, groupID, databaseName, username string, u DatabaseUserUpdate) (*DatabaseUser, error)
	DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string) error

	ListAccessList(ctx context.Context, groupID string, p Page) ([]AccessListEntry, int, error)
	// AddAccessListEntries validates and adds the entries, all or none.
	AddAccessListEntries(ctx context.Context, groupID string, in []AccessListInput) error
	// GetAccessListEntry finds an entry by its block or by the address it
	// was created from ("192.168.0.243" finds "192.168.0.243/32").
	GetAccessListEntry(ctx context.Context, groupID, entryValue string) (*AccessListEntry, error)
	DeleteAccessListEntry(ctx context.Context, groupID, entryValue string) error
}
