package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// serviceAccountVersions: the service account operations have one resource
// version.
var serviceAccountVersions = []string{"2024-08-05"}

// secretView is the spec's ServiceAccountSecret. secret appears only in the
// response that created it.
type secretView struct {
	CreatedAt         atlasTime `json:"createdAt"`
	ExpiresAt         atlasTime `json:"expiresAt"`
	ID                string    `json:"id"`
	LastUsedAt        atlasTime `json:"lastUsedAt,omitzero"`
	MaskedSecretValue string    `json:"maskedSecretValue,omitempty"`
	Secret            string    `json:"secret,omitempty"`
}

func viewSecret(_ string, s *flexd.ServiceAccountSecret) secretView {
	return secretView{
		CreatedAt:         atlasTime(s.CreatedAt),
		ExpiresAt:         atlasTime(s.ExpiresAt),
		ID:                s.ID,
		LastUsedAt:        atlasTime(s.LastUsedAt),
		MaskedSecretValue: s.MaskedSecretValue,
		Secret:            s.Secret,
	}
}

// serviceAccountView is the spec's OrgServiceAccount and GroupServiceAccount,
// which differ only in which roles they list.
type serviceAccountView struct {
	ClientID    string       `json:"clientId"`
	CreatedAt   atlasTime    `json:"createdAt"`
	Description string       `json:"description"`
	Name        string       `json:"name"`
	Roles       []flexd.Role `json:"roles"`
	Secrets     []secretView `json:"secrets"`
}

func viewAccount(a *flexd.ServiceAccount, roles []flexd.Role) serviceAccountView {
	v := serviceAccountView{
		ClientID:    a.ClientID,
		CreatedAt:   atlasTime(a.CreatedAt),
		Description: a.Description,
		Name:        a.Name,
		Roles:       append([]flexd.Role{}, roles...),
		Secrets:     make([]secretView, len(a.Secrets)),
	}
	for i := range a.Secrets {
		v.Secrets[i] = viewSecret("", &a.Secrets[i])
	}
	return v
}

// viewOrgAccount lists the organization roles.
func viewOrgAccount(_ string, a *flexd.ServiceAccount) serviceAccountView {
	return viewAccount(a, a.OrgRoles)
}

// accountInProject is an account as a project sees it: with its roles there.
type accountInProject struct {
	*flexd.ServiceAccount
	groupID string
}

func viewProjectAccount(_ string, a *accountInProject) serviceAccountView {
	return viewAccount(a.ServiceAccount, a.RolesIn(a.groupID))
}

// inProject wraps what a service call returns for viewProjectAccount,
// seen from the request's project.
func inProject(r *http.Request) func(*flexd.ServiceAccount, error) (*accountInProject, error) {
	return func(a *flexd.ServiceAccount, err error) (*accountInProject, error) {
		if err != nil {
			return nil, err
		}
		return &accountInProject{a, r.PathValue("groupId")}, nil
	}
}

// serviceAccountGroupView is the spec's ServiceAccountGroup.
type serviceAccountGroupView struct {
	GroupID string `json:"groupId"`
}

func viewServiceAccountGroup(_ string, id *string) serviceAccountGroupView {
	return serviceAccountGroupView{GroupID: *id}
}

// serviceAccountReadOnly are the read-only properties of the accounts.
var serviceAccountReadOnly = []string{"clientId", "createdAt", "secrets"}

// serviceAccountCreate is OrgServiceAccountRequest and
// GroupServiceAccountRequest, in the spec's property order.
type serviceAccountCreate struct {
	Description             string       `json:"description" atlas:"required"`
	Name                    string       `json:"name" atlas:"required"`
	Roles                   []flexd.Role `json:"roles" atlas:"required"`
	SecretExpiresAfterHours int          `json:"secretExpiresAfterHours" atlas:"required"`
}

func (serviceAccountCreate) ignored() []string { return serviceAccountReadOnly }

func (in *serviceAccountCreate) create() flexd.ServiceAccountCreate {
	return flexd.ServiceAccountCreate{Name: in.Name, Description: in.Description, Roles: in.Roles,
		SecretExpiresAfterHours: in.SecretExpiresAfterHours}
}

// serviceAccountUpdate is OrgServiceAccountUpdateRequest and
// GroupServiceAccountUpdateRequest.
type serviceAccountUpdate struct {
	Description *string       `json:"description"`
	Name        *string       `json:"name"`
	Roles       *[]flexd.Role `json:"roles"`
}

func (serviceAccountUpdate) ignored() []string { return serviceAccountReadOnly }

func (in *serviceAccountUpdate) update() flexd.ServiceAccountUpdate {
	return flexd.ServiceAccountUpdate{Name: in.Name, Description: in.Description, Roles: in.Roles}
}

// secretCreate is ServiceAccountSecretRequest.
type secretCreate struct {
	SecretExpiresAfterHours int `json:"secretExpiresAfterHours" atlas:"required"`
}

// accountInvite is GroupServiceAccountRoleAssignment.
type accountInvite struct {
	Roles []flexd.Role `json:"roles" atlas:"required"`
}

func clientID(r *http.Request) string { return r.PathValue("clientId") }

func (s *server) listOrgServiceAccounts() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.ServiceAccount, int, error) {
		return s.cfg.ServiceAccounts.ListOrgServiceAccounts(r.Context(), stateOf(r).org.ID, p)
	}, viewOrgAccount)
}

func (s *server) getOrgServiceAccount() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.ServiceAccount, error) {
		return s.cfg.ServiceAccounts.GetOrgServiceAccount(r.Context(), stateOf(r).org.ID, clientID(r))
	}, viewOrgAccount)
}

// createOrgServiceAccount answers 201 with the first secret in clear, the
// one time it is shown.
func (s *server) createOrgServiceAccount() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *serviceAccountCreate) (*flexd.ServiceAccount, error) {
		return s.cfg.ServiceAccounts.CreateOrgServiceAccount(r.Context(), stateOf(r).org.ID, in.create())
	}, viewOrgAccount)
}

func (s *server) updateOrgServiceAccount() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *serviceAccountUpdate) (*flexd.ServiceAccount, error) {
		return s.cfg.ServiceAccounts.UpdateOrgServiceAccount(r.Context(), stateOf(r).org.ID, clientID(r), in.update())
	}, viewOrgAccount)
}

func (s *server) deleteOrgServiceAccount() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.ServiceAccounts.DeleteOrgServiceAccount(r.Context(), stateOf(r).org.ID, clientID(r))
	})
}

func (s *server) listServiceAccountProjects() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]string, int, error) {
		return s.cfg.ServiceAccounts.ListServiceAccountProjects(r.Context(), stateOf(r).org.ID, clientID(r), p)
	}, viewServiceAccountGroup)
}

func (s *server) createServiceAccountSecret() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *secretCreate) (*flexd.ServiceAccountSecret, error) {
		return s.cfg.ServiceAccounts.CreateServiceAccountSecret(r.Context(), stateOf(r).org.ID, clientID(r),
			in.SecretExpiresAfterHours)
	}, viewSecret)
}

func (s *server) deleteServiceAccountSecret() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.ServiceAccounts.DeleteServiceAccountSecret(r.Context(), stateOf(r).org.ID, clientID(r),
			r.PathValue("secretId"))
	})
}

func (s *server) listProjectServiceAccounts() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]accountInProject, int, error) {
		as, total, err := s.cfg.ServiceAccounts.ListProjectServiceAccounts(r.Context(), r.PathValue("groupId"), p)
		out := make([]accountInProject, len(as))
		for i := range as {
			out[i] = accountInProject{&as[i], r.PathValue("groupId")}
		}
		return out, total, err
	}, viewProjectAccount)
}

func (s *server) getProjectServiceAccount() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*accountInProject, error) {
		return inProject(r)(s.cfg.ServiceAccounts.GetProjectServiceAccount(r.Context(), r.PathValue("groupId"), clientID(r)))
	}, viewProjectAccount)
}

func (s *server) createProjectServiceAccount() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *serviceAccountCreate) (*accountInProject, error) {
		return inProject(r)(s.cfg.ServiceAccounts.CreateProjectServiceAccount(r.Context(), r.PathValue("groupId"), in.create()))
	}, viewProjectAccount)
}

func (s *server) updateProjectServiceAccount() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *serviceAccountUpdate) (*accountInProject, error) {
		return inProject(r)(s.cfg.ServiceAccounts.UpdateProjectServiceAccount(r.Context(), r.PathValue("groupId"),
			clientID(r), in.update()))
	}, viewProjectAccount)
}

func (s *server) removeProjectServiceAccount() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.ServiceAccounts.RemoveProjectServiceAccount(r.Context(), r.PathValue("groupId"), clientID(r))
	})
}

// inviteProjectServiceAccount serves POST …/serviceAccounts/{clientId}:invite
// (see customMethod): 200 with the account as the project now sees it.
func (s *server) inviteProjectServiceAccount() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *accountInvite) (*accountInProject, error) {
		return inProject(r)(s.cfg.ServiceAccounts.InviteProjectServiceAccount(r.Context(), r.PathValue("groupId"),
			clientID(r), in.Roles))
	}, viewProjectAccount)
}
