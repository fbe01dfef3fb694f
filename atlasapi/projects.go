package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// groupView is the spec's Group: a project, "group" on the wire, as real
// Atlas answers it (ATLAS-NOTES §7): withDefaultAlertsSettings (writeOnly in
// the spec) is there, regionUsageRestrictions (a FedRAMP setting commercial
// Atlas leaves out) is not, and tags only when there are some.
type groupView struct {
	ClusterCount              int64     `json:"clusterCount"`
	Created                   atlasTime `json:"created,omitzero"`
	ID                        string    `json:"id"`
	Links                     []link    `json:"links"`
	Name                      string    `json:"name"`
	OrgID                     string    `json:"orgId"`
	Tags                      []tag     `json:"tags,omitempty"`
	WithDefaultAlertsSettings bool      `json:"withDefaultAlertsSettings"`
}

// groupCollections are the sub-collections a project links to.
var groupCollections = []string{"containers", "clusters", "databaseUsers", "peers", "processes", "whitelist"}

func viewGroup(base string, p *flexd.Project) groupView {
	return groupView{
		ClusterCount:              p.ClusterCount,
		Created:                   atlasTime(p.Created),
		ID:                        p.ID,
		Links:                     resourceLinks(apiPath(base, "groups", p.ID), groupCollections...),
		Name:                      p.Name,
		OrgID:                     p.OrgID,
		Tags:                      tagsView(p.Tags),
		WithDefaultAlertsSettings: p.WithDefaultAlertsSettings,
	}
}

// groupCreate is the body of POST /groups (the spec's Group). orgId is
// optional in flexd: without it the project goes to the caller's
// organization (with OpenAccess, the default one).
type groupCreate struct {
	Name                      string `json:"name" atlas:"required"`
	OrgID                     string `json:"orgId" atlas:"id"`
	RegionUsageRestrictions   string `json:"regionUsageRestrictions"`
	Tags                      []tag  `json:"tags"`
	WithDefaultAlertsSettings *bool  `json:"withDefaultAlertsSettings"` // stored; flexd has no alerts
}

func (groupCreate) ignored() []string { return groupReadOnly }

func (g *groupCreate) targetOrg() *string { return &g.OrgID }

// groupReadOnly are the read-only properties of Group.
var groupReadOnly = []string{"clusterCount", "created", "id", "links"}

// groupUpdate is the body of PATCH /groups/{groupId} (the spec's
// GroupUpdate).
type groupUpdate struct {
	Name *string `json:"name"`
	Tags *[]tag  `json:"tags"`
}

func (groupUpdate) ignored() []string { return groupReadOnly }

// listProjects lists the projects the caller may see.
func (s *server) listProjects() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.Project, int, error) {
		f := visibleProjects(stateOf(r).principal, "")
		return s.cfg.Projects.ListProjects(r.Context(), f, p)
	}, viewGroup)
}

// listOrganizationProjects lists the projects of {orgId} the caller may
// see, optionally only the one with a given name.
func (s *server) listOrganizationProjects() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.Project, int, error) {
		st := stateOf(r)
		name, err := stringParam(st.query, "name")
		if err != nil {
			return nil, 0, err
		}
		f := visibleProjects(st.principal, st.org.ID)
		f.Name = name
		return s.cfg.Projects.ListProjects(r.Context(), f, p)
	}, viewGroup)
}

// createProject answers 201, as real Atlas does (the spec says 200).
func (s *server) createProject() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *groupCreate) (*flexd.Project, error) {
		return s.cfg.Projects.CreateProject(r.Context(), flexd.ProjectCreate{
			Name:                    in.Name,
			OrgID:                   in.OrgID,
			Tags:                    tagsOf(in.Tags),
			RegionUsageRestrictions: in.RegionUsageRestrictions,

			WithoutDefaultAlertsSettings: in.WithDefaultAlertsSettings != nil && !*in.WithDefaultAlertsSettings,
		})
	}, viewGroup)
}

// getProject returns the project the access check loaded.
func (s *server) getProject() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.Project, error) {
		return stateOf(r).project, nil
	}, viewGroup)
}

func (s *server) updateProject() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *groupUpdate) (*flexd.Project, error) {
		u := flexd.ProjectUpdate{Name: in.Name, Tags: tagsUpdate(in.Tags)}
		return s.cfg.Projects.UpdateProject(r.Context(), r.PathValue("groupId"), u)
	}, viewGroup)
}

// deleteProject answers 202 with {}, as real Atlas does (the spec says
// 204).
func (s *server) deleteProject() http.Handler {
	return removeAccepted(s, func(r *http.Request) error {
		return s.cfg.Projects.DeleteProject(r.Context(), r.PathValue("groupId"))
	})
}
