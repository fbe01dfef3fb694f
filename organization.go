package flexd

import (
	"context"
	"time"
)

// Organization is an Atlas organization. flexd creates a default one on
// first start; projects, API keys and service accounts live in one.
type Organization struct {
	ID        string
	Name      string
	IsDeleted bool
	Created   time.Time
}

// OrganizationFilter narrows a list of organizations. Empty fields match all.
type OrganizationFilter struct {
	Name string   // exact name
	IDs  []string // nil means no restriction; empty means none
}

// OrganizationService is what the API needs to read organizations.
type OrganizationService interface {
	ListOrganizations(ctx context.Context, f OrganizationFilter, p Page) ([]Organization, int, error)
	GetOrganization(ctx context.Context, id string) (*Organization, error)
}

// OrganizationCreate is what POST /orgs may set. APIKey, when given, is
// the new organization's first API key, handed out once in the answer:
// without one nobody can act in the organization, since its creator (the
// instance administrator) sees nothing inside organizations.
type OrganizationCreate struct {
	Name   string
	APIKey *APIKeyCreate
}

// CreatedOrganization is the answer to an organization create.
type CreatedOrganization struct {
	Organization Organization
	APIKey       *APIKey // with its PrivateKey, when one was asked for
}

// OrganizationUpdate holds what a PATCH may change.
type OrganizationUpdate struct {
	Name *string
}

// InstanceService is what flexd's instance administrator does: create,
// rename and delete organizations, and designate other instance
// administrators. The transport lets only an instance administrator call
// it (IsInstanceAdministrator).
type InstanceService interface {
	CreateOrganization(ctx context.Context, c OrganizationCreate) (*CreatedOrganization, error)
	UpdateOrganization(ctx context.Context, id string, u OrganizationUpdate) (*Organization, error)
	// DeleteOrganization deletes an organization without projects, with its
	// API keys and service accounts (ORG_NOT_EMPTY otherwise). The
	// instance's own organization cannot be deleted.
	DeleteOrganization(ctx context.Context, id string) error
	// IsInstanceAdministrator reports whether p is one (see Principal).
	IsInstanceAdministrator(ctx context.Context, p *Principal) (bool, error)
	// SetInstanceAdministrator designates the API key (by id) or service
	// account (by client id) as an instance administrator, or no longer.
	SetInstanceAdministrator(ctx context.Context, id string, on bool) error
}

// OrganizationAdminStore is the storage behind InstanceService.
type OrganizationAdminStore interface {
	// UpdateOrganization writes Name.
	UpdateOrganization(ctx context.Context, o *Organization) error
	// DeleteOrganization deletes the organization with its API keys and
	// service accounts (revoking their tokens) in one transaction;
	// ErrNotEmpty while it has projects.
	DeleteOrganization(ctx context.Context, id string) error
	// IsInstanceAdministrator reports whether the API key id or service
	// account client id was designated.
	IsInstanceAdministrator(ctx context.Context, id string) (bool, error)
	// SetInstanceAdministrator designates (on) or withdraws id; ErrNotFound
	// when no API key or service account has that id.
	SetInstanceAdministrator(ctx context.Context, id string, on bool) error
}
