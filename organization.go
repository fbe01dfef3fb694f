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
