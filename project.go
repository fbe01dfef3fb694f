package flexd

import (
	"context"
	"time"
)

// Project is an Atlas project ("group" on the wire).
type Project struct {
	ID                      string
	OrgID                   string
	Name                    string
	Created                 time.Time
	Tags                    []Tag
	RegionUsageRestrictions string
	// WithDefaultAlertsSettings records what the create asked for (true
	// unless it said false); flexd has no alerts, but clients read it back.
	WithDefaultAlertsSettings bool
	ClusterCount              int64 // filled on read: clusters in the project
	// AccessList are the IP access list entries a create stores with the
	// project, in the same transaction (the list a new project starts
	// with); not filled on read.
	AccessList []AccessListEntry
}

// Tag is a key/value resource tag (ResourceTag on the wire).
type Tag struct {
	Key   string
	Value string
}

// ProjectFilter narrows a list of projects. Empty fields match all.
type ProjectFilter struct {
	OrgID string
	Name  string   // exact name
	IDs   []string // nil means no restriction; empty means none
}

// ProjectCreate is what a caller may set when creating a project.
type ProjectCreate struct {
	Name                    string
	OrgID                   string // empty: the default organization
	Tags                    []Tag
	RegionUsageRestrictions string
	// WithoutDefaultAlertsSettings is true when the create said
	// withDefaultAlertsSettings: false; the zero value is Atlas's default.
	WithoutDefaultAlertsSettings bool
}

// ProjectUpdate holds the fields a PATCH may change; nil leaves a field as is.
type ProjectUpdate struct {
	Name *string
	Tags *[]Tag
}

// ProjectService manages projects.
type ProjectService interface {
	CreateProject(ctx context.Context, c ProjectCreate) (*Project, error)
	GetProject(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context, f ProjectFilter, p Page) ([]Project, int, error)
	UpdateProject(ctx context.Context, id string, u ProjectUpdate) (*Project, error)
	DeleteProject(ctx context.Context, id string) error
}

// ProjectOwner names the principal a new project is granted to: an API key
// (Kind KindAPIKey, ID its id) or a service account (KindServiceAccount,
// its client id).
type ProjectOwner struct {
	Kind string
	ID   string
}
