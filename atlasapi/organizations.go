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
