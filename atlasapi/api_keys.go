package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// apiKeyVersions: the API key operations have one resource version.
var apiKeyVersions = []string{"2023-01-01"}

// roleAssignmentView is the spec's CloudAccessRoleAssignment: one role at
// one scope, named by orgId or groupId.
type roleAssignmentView struct {
	GroupID  string     `json:"groupId,omitempty"`
	OrgID    string     `json:"orgId,omitempty"`
	RoleName flexd.Role `json:"roleName"`
}

func viewGrants(orgID string, g flexd.Grants) []roleAssignmentView {
	out := []roleAssignmentView{}
	for _, r := range g.OrgRoles {
		out = append(out, roleAssignmentView{OrgID: orgID, RoleName: r})
	}
	for _, p := range g.Projects {
		for _, r := range p.Roles {
			out = append(out, roleAssignmentView{GroupID: p.GroupID, RoleName: r})
		}
	}
	return out
}

// apiKeyView is the spec's ApiKeyUserDetails. privateKey appears whole in
// the create response only; every later read shows it masked, as Atlas
// does, from the 12 characters flexd keeps of it.
type apiKeyView struct {
	Desc       string               `json:"desc"`
	ID         string               `json:"id"`
	Links      []link               `json:"links"`
	PrivateKey string               `json:"privateKey,omitempty"`
	PublicKey  string               `json:"publicKey"`
	Roles      []roleAssignmentView `json:"roles"`
}

func viewAPIKey(base string, k *flexd.APIKey) apiKeyView {
	return apiKeyView{
		Desc:       k.Desc,
		ID:         k.ID,
		Links:      selfLink(apiPath(base, "orgs", k.OrgID, "apiKeys", k.ID)),
		PrivateKey: privateKeyView(k),
		PublicKey:  k.PublicKey,
		Roles:      viewGrants(k.OrgID, k.Grants),
	}
}

// maskedPrivateKey is what Atlas shows of a private key before its last
// 12 characters.
const maskedPrivateKey = "********-****-****-"

func privateKeyView(k *flexd.APIKey) string {
	switch {
	case k.PrivateKey != "":
		return k.PrivateKey
	case k.PrivateKeyTail != "":
		return maskedPrivateKey + k.PrivateKeyTail
	}
	return ""
}

// apiKeyReadOnly are ApiKeyUserDetails' read-only properties.
var apiKeyReadOnly = []string{"id", "links", "privateKey", "publicKey"}

// apiKeyCreate is CreateAtlasOrganizationApiKey and CreateAtlasProjectApiKey.
// desc and roles are required, but Atlas names their absence with codes of
// their own (API_KEY_REQUIRES_DESCRIPTION, MISSING_API_KEY_ROLES), which the
// service gives.
type apiKeyCreate struct {
	Desc  string       `json:"desc"`
	Roles []flexd.Role `json:"roles"`
}

func (apiKeyCreate) ignored() []string { return apiKeyReadOnly }

func (in *apiKeyCreate) create() flexd.APIKeyCreate {
	return flexd.APIKeyCreate{Desc: in.Desc, Roles: in.Roles}
}

// apiKeyUpdate is UpdateAtlasOrganizationApiKey and UpdateAtlasProjectApiKey.
type apiKeyUpdate struct {
	Desc  *string       `json:"desc"`
	Roles *[]flexd.Role `json:"roles"`
}

func (apiKeyUpdate) ignored() []string { return apiKeyReadOnly }

func (in *apiKeyUpdate) update() flexd.APIKeyUpdate {
	return flexd.APIKeyUpdate{Desc: in.Desc, Roles: in.Roles}
}

// userAccessRoleAssignment is one element of the body of
// POST /groups/{groupId}/apiKeys/{apiUserId}.
type userAccessRoleAssignment struct {
	Roles []flexd.Role `json:"roles"`
}

func (userAccessRoleAssignment) ignored() []string { return []string{"userId"} }

func (s *server) listOrgAPIKeys() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.APIKey, int, error) {
		return s.cfg.APIKeys.ListOrgAPIKeys(r.Context(), stateOf(r).org.ID, p)
	}, viewAPIKey)
}

func (s *server) getOrgAPIKey() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.APIKey, error) {
		return s.cfg.APIKeys.GetOrgAPIKey(r.Context(), stateOf(r).org.ID, r.PathValue("apiUserId"))
	}, viewAPIKey)
}

// createOrgAPIKey answers 200, not 201: the spec says so. The response is
// the one place the private key ever appears.
func (s *server) createOrgAPIKey() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *apiKeyCreate) (*flexd.APIKey, error) {
		return s.cfg.APIKeys.CreateOrgAPIKey(r.Context(), stateOf(r).org.ID, in.create())
	}, viewAPIKey)
}

func (s *server) updateOrgAPIKey() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *apiKeyUpdate) (*flexd.APIKey, error) {
		return s.cfg.APIKeys.UpdateOrgAPIKey(r.Context(), stateOf(r).org.ID, r.PathValue("apiUserId"), in.update())
	}, viewAPIKey)
}

func (s *server) deleteOrgAPIKey() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.APIKeys.DeleteOrgAPIKey(r.Context(), stateOf(r).org.ID, r.PathValue("apiUserId"))
	})
}

func (s *server) listProjectAPIKeys() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.APIKey, int, error) {
		return s.cfg.APIKeys.ListProjectAPIKeys(r.Context(), r.PathValue("groupId"), p)
	}, viewAPIKey)
}

func (s *server) createProjectAPIKey() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *apiKeyCreate) (*flexd.APIKey, error) {
		return s.cfg.APIKeys.CreateProjectAPIKey(r.Context(), r.PathValue("groupId"), in.create())
	}, viewAPIKey)
}

func (s *server) updateProjectAPIKey() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *apiKeyUpdate) (*flexd.APIKey, error) {
		return s.cfg.APIKeys.UpdateProjectAPIKey(r.Context(), r.PathValue("groupId"), r.PathValue("apiUserId"), in.update())
	}, viewAPIKey)
}

// assignProjectAPIKey gives a key of the organization the roles the body's
// assignments list, together, in the project: 204.
func (s *server) assignProjectAPIKey() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		items, err := decodeArray[userAccessRoleAssignment](w, r)
		if err != nil {
			return err
		}
		var roles []flexd.Role
		for _, it := range items {
			roles = append(roles, it.Roles...)
		}
		if err := s.cfg.APIKeys.AssignProjectAPIKey(r.Context(), r.PathValue("groupId"), r.PathValue("apiUserId"), roles); err != nil {
			return err
		}
		s.respondNoContent(w, r)
		return nil
	})
}

func (s *server) unassignProjectAPIKey() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.APIKeys.UnassignProjectAPIKey(r.Context(), r.PathValue("groupId"), r.PathValue("apiUserId"))
	})
}
