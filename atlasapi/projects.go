package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// groupView is the spec's Group: a project, "group" on the wire.
type groupView struct {
	ClusterCount            int64     `json:"clusterCount"`
	Created                 atlasTime `json:"created,omitzero"`
	ID                      string    `json:"id"`
	Links                   []link    `json:"links"`
	Name                    string    `json:"name"`
	OrgID                   string    `json:"orgId"`
	RegionUsageRestrictions string    `json:"regionUsageRestrictions"`
	Tags                    []tag     `json:"tags"`
}

// defaultRegionUsageRestrictions is the spec's default for a project that
// does not say.
const defaultRegionUsageRestrictions = "COMMERCIAL_FEDRAMP_REGIONS_ONLY"

func viewGroup(base string, p *flexd.Project) groupView {
	v := groupView{
		ClusterCount:            p.ClusterCount,
		Created:                 atlasTime(p.Created),
		ID:                      p.ID,
		Links:                   selfLink(apiPath(base, "groups", p.ID)),
		Name:                    p.Name,
		OrgID:                   p.OrgID,
		RegionUsageRestrictions: p.RegionUsageRestrictions,
		Tags:                    tagsView(p.Tags),
	}
	if v.RegionUsageRestrictions == "" {
		v.RegionUsageRestrictions = defaultRegionUsageRestrictions
	}
	return v
}

// groupCreate is the body of POST /groups (the spec's Group). orgId is
// optional in flexd: without it the project goes to the caller's
// organization (with OpenAccess, the default one).
type groupCreate struct {
	Name                      string `json:"name" atlas:"required"`
	OrgID                     string `json:"orgId" atlas:"id"`
	RegionUsageRestrictions   string `json:"regionUsageRestrictions"`
	Tags                      []tag  `json:"tags"`
	WithDefaultAlertsSettings *bool  `json:"withDefaultAlertsSettings"` // flexd has no alerts
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

// createProject answers 200, not 201: the spec says so.
func (s *server) createProject() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *groupCreate) (*flexd.Project, error) {
		return s.cfg.Projects.CreateProject(r.Context(), flexd.ProjectCreate{
			Name:                    in.Name,
			OrgID:                   in.OrgID,
			Tags:                    tagsOf(in.Tags),
			RegionUsageRestrictions: in.RegionUsageRestrictions,
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

func (s *server) deleteProject() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Projects.DeleteProject(r.Context(), r.PathValue("groupId"))
	})
}
