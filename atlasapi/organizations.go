package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// organizationView is the spec's AtlasOrganization. flexd creates no
// alerts, so skipDefaultAlertsSettings is what Atlas answers by default.
type organizationView struct {
	ID                        string `json:"id"`
	IsDeleted                 bool   `json:"isDeleted"`
	Links                     []link `json:"links"`
	Name                      string `json:"name"`
	SkipDefaultAlertsSettings bool   `json:"skipDefaultAlertsSettings"`
}

// orgCollections are the sub-collections an organization links to.
var orgCollections = []string{"groups", "teams", "users"}

func viewOrganization(base string, o *flexd.Organization) organizationView {
	return organizationView{
		ID:        o.ID,
		IsDeleted: o.IsDeleted,
		Links:     resourceLinks(apiPath(base, "orgs", o.ID), orgCollections...),
		Name:      o.Name,
	}
}

// listOrganizations lists the organizations the caller belongs to,
// optionally only the one with a given name (the CLI sends name).
func (s *server) listOrganizations() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.Organization, int, error) {
		st := stateOf(r)
		name, err := stringParam(st.query, "name")
		if err != nil {
			return nil, 0, err
		}
		f := flexd.OrganizationFilter{Name: name, IDs: visibleOrgs(st.principal)}
		return s.cfg.Orgs.ListOrganizations(r.Context(), f, p)
	}, viewOrganization)
}

// getOrganization returns the organization the access check loaded.
func (s *server) getOrganization() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.Organization, error) {
		return stateOf(r).org, nil
	}, viewOrganization)
}

// organizationCreate is CreateOrganizationRequest. flexd has no users and no
// federation: orgOwnerId and federationSettingsId are accepted unread (the
// new organization's owner is the API key asked for in apiKey), and it has
// no alerts to skip.
type organizationCreate struct {
	Name                      string        `json:"name" atlas:"required"`
	APIKey                    *apiKeyCreate `json:"apiKey"`
	FederationSettingsID      string        `json:"federationSettingsId" atlas:"id"`
	OrgOwnerID                string        `json:"orgOwnerId" atlas:"id"`
	SkipDefaultAlertsSettings *bool         `json:"skipDefaultAlertsSettings"`
}

// createdOrganizationView is CreateOrganizationResponse.
type createdOrganizationView struct {
	APIKey       *apiKeyView      `json:"apiKey,omitempty"`
	Organization organizationView `json:"organization"`
}

func viewCreatedOrganization(base string, c *flexd.CreatedOrganization) createdOrganizationView {
	v := createdOrganizationView{Organization: viewOrganization(base, &c.Organization)}
	if c.APIKey != nil {
		k := viewAPIKey(base, c.APIKey)
		v.APIKey = &k
	}
	return v
}

// createOrganization answers 201 (the spec's status).
func (s *server) createOrganization() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *organizationCreate) (*flexd.CreatedOrganization, error) {
		c := flexd.OrganizationCreate{Name: in.Name}
		if in.APIKey != nil {
			k := in.APIKey.create()
			c.APIKey = &k
		}
		return s.cfg.Instance.CreateOrganization(r.Context(), c)
	}, viewCreatedOrganization)
}

// organizationUpdate is the AtlasOrganization a PATCH sends: only the name
// changes.
type organizationUpdate struct {
	Name                      *string `json:"name"`
	SkipDefaultAlertsSettings *bool   `json:"skipDefaultAlertsSettings"`
}

func (organizationUpdate) ignored() []string { return []string{"id", "isDeleted", "links"} }

func (s *server) updateOrganization() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *organizationUpdate) (*flexd.Organization, error) {
		return s.cfg.Instance.UpdateOrganization(r.Context(), r.PathValue("orgId"), flexd.OrganizationUpdate{Name: in.Name})
	}, viewOrganization)
}

func (s *server) deleteOrganization() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Instance.DeleteOrganization(r.Context(), r.PathValue("orgId"))
	})
}

// setInstanceAdministrator designates (PUT) or withdraws (DELETE) the API
// key or service account {id} as an instance administrator: 204.
func (s *server) setInstanceAdministrator(on bool) http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Instance.SetInstanceAdministrator(r.Context(), r.PathValue("id"), on)
	})
}
