package atlasapi

import (
	"net/http"
	"time"

	"github.com/flexd/flexd"
)

// databaseAccessVersions: database users and the access list have one
// resource version.
var databaseAccessVersions = []string{"2023-01-01"}

// databaseUserView is the spec's CloudDatabaseUser as real Atlas answers
// it (ATLAS-NOTES §7): the four …Type fields NONE, labels and scopes always
// arrays, groupId (writeOnly in the spec, present on the wire), never the
// password.
type databaseUserView struct {
	AWSIAMType      string                 `json:"awsIAMType"`
	DatabaseName    string                 `json:"databaseName"`
	DeleteAfterDate atlasTime              `json:"deleteAfterDate,omitzero"`
	Description     string                 `json:"description,omitempty"`
	GroupID         string                 `json:"groupId"`
	Labels          []tag                  `json:"labels"`
	LDAPAuthType    string                 `json:"ldapAuthType"`
	Links           []link                 `json:"links"`
	OIDCAuthType    string                 `json:"oidcAuthType"`
	Roles           []databaseUserRoleView `json:"roles"`
	Scopes          []flexd.UserScope      `json:"scopes"`
	Username        string                 `json:"username"`
	X509Type        string                 `json:"x509Type"`
}

func viewDatabaseUser(base string, u *flexd.DatabaseUser) databaseUserView {
	v := databaseUserView{
		AWSIAMType: "NONE", LDAPAuthType: "NONE", OIDCAuthType: "NONE", X509Type: "NONE",
		DatabaseName:    u.DatabaseName,
		DeleteAfterDate: atlasTime(u.DeleteAfterDate),
		Description:     u.Description,
		GroupID:         u.GroupID,
		Labels:          make([]tag, len(u.Labels)),
		Links:           selfLink(apiPath(base, "groups", u.GroupID, "databaseUsers", u.DatabaseName, u.Username)),
		Roles:           make([]databaseUserRoleView, len(u.Roles)),
		Scopes:          append([]flexd.UserScope{}, u.Scopes...),
		Username:        u.Username,
	}
	for i, l := range u.Labels {
		v.Labels[i] = tag(l)
	}
	for i, r := range u.Roles {
		v.Roles[i] = databaseUserRoleView{CollectionName: r.CollectionName, DatabaseName: r.DatabaseName, RoleName: r.RoleName}
	}
	return v
}

// databaseUserRoleView is DatabaseUserRole in Atlas's member order;
// collectionName only when the role has one.
type databaseUserRoleView struct {
	CollectionName string `json:"collectionName,omitempty"`
	DatabaseName   string `json:"databaseName"`
	RoleName       string `json:"roleName"`
}

// databaseUserRole and userScope are DatabaseUserRole and UserScope in a
// request body.
type databaseUserRole struct {
	CollectionName string `json:"collectionName"`
	DatabaseName   string `json:"databaseName" atlas:"required"`
	RoleName       string `json:"roleName" atlas:"required"`
}

type userScope struct {
	Name string `json:"name" atlas:"required"`
	Type string `json:"type" atlas:"required"`
}

// databaseUserBody is CloudDatabaseUser in a create or update. Clients send
// the four …Type fields and labels: [] on every call (Terraform compares
// them on each plan); only NONE is served.
type databaseUserBody struct {
	AWSIAMType      *string             `json:"awsIAMType"`
	DatabaseName    *string             `json:"databaseName"`
	DeleteAfterDate *string             `json:"deleteAfterDate"`
	Description     *string             `json:"description"`
	GroupID         *string             `json:"groupId"`
	Labels          *[]tag              `json:"labels"`
	LDAPAuthType    *string             `json:"ldapAuthType"`
	OIDCAuthType    *string             `json:"oidcAuthType"`
	Password        *string             `json:"password"`
	Roles           *[]databaseUserRole `json:"roles"`
	Scopes          *[]userScope        `json:"scopes"`
	Username        *string             `json:"username"`
	X509Type        *string             `json:"x509Type"`
}

func (databaseUserBody) ignored() []string { return []string{"links"} }

// check applies what the body alone decides: its groupId must be the
// path's, its deleteAfterDate a date-time.
func (in *databaseUserBody) check(groupID string) (time.Time, error) {
	if in.GroupID != nil && *in.GroupID != groupID {
		return time.Time{}, flexd.GroupMismatch(*in.GroupID)
	}
	return parseDateTime(in.DeleteAfterDate, "deleteAfterDate")
}

// parseDateTime reads an ISO 8601 date-time with a time zone, as the spec's
// format: date-time says; nil or empty is the zero time.
func parseDateTime(s *string, attr string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, flexd.InvalidJSONAttribute(attr)
	}
	return t.UTC(), nil
}

func (in *databaseUserBody) authTypes() map[string]string {
	m := map[string]string{}
	for name, v := range map[string]*string{"awsIAMType": in.AWSIAMType, "ldapAuthType": in.LDAPAuthType,
		"oidcAuthType": in.OIDCAuthType, "x509Type": in.X509Type} {
		if v != nil {
			m[name] = *v
		}
	}
	return m
}

func rolesOf(in []databaseUserRole) []flexd.DatabaseUserRole {
	out := make([]flexd.DatabaseUserRole, len(in))
	for i, r := range in {
		out[i] = flexd.DatabaseUserRole{RoleName: r.RoleName, DatabaseName: r.DatabaseName, CollectionName: r.CollectionName}
	}
	return out
}

func scopesOf(in []userScope) []flexd.UserScope {
	out := make([]flexd.UserScope, len(in))
	for i, s := range in {
		out[i] = flexd.UserScope(s)
	}
	return out
}

func labelsOf(in []tag) []flexd.Tag {
	out := make([]flexd.Tag, len(in))
	for i, l := range in {
		out[i] = flexd.Tag(l)
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (in *databaseUserBody) create(groupID string) (flexd.DatabaseUserCreate, error) {
	deleteAfter, err := in.check(groupID)
	if err != nil {
		return flexd.DatabaseUserCreate{}, err
	}
	return flexd.DatabaseUserCreate{
		DatabaseName:    deref(in.DatabaseName),
		Username:        deref(in.Username),
		Password:        deref(in.Password),
		Description:     deref(in.Description),
		Roles:           rolesOf(deref(in.Roles)),
		Scopes:          scopesOf(deref(in.Scopes)),
		Labels:          labelsOf(deref(in.Labels)),
		DeleteAfterDate: deleteAfter,
		AuthTypes:       in.authTypes(),
	}, nil
}

func (in *databaseUserBody) update(groupID string) (flexd.DatabaseUserUpdate, error) {
	deleteAfter, err := in.check(groupID)
	if err != nil {
		return flexd.DatabaseUserUpdate{}, err
	}
	u := flexd.DatabaseUserUpdate{
		DatabaseName: in.DatabaseName,
		Username:     in.Username,
		Password:     in.Password,
		Description:  in.Description,
		AuthTypes:    in.authTypes(),
	}
	if in.DeleteAfterDate != nil {
		u.DeleteAfterDate = &deleteAfter
	}
	if in.Roles != nil {
		r := rolesOf(*in.Roles)
		u.Roles = &r
	}
	if in.Scopes != nil {
		sc := scopesOf(*in.Scopes)
		u.Scopes = &sc
	}
	if in.Labels != nil {
		l := labelsOf(*in.Labels)
		u.Labels = &l
	}
	return u, nil
}

// userPath is the database user a path names.
func userPath(r *http.Request) (groupID, databaseName, username string) {
	return r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username")
}

func (s *server) listDatabaseUsers() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.DatabaseUser, int, error) {
		return s.cfg.DatabaseAccess.ListDatabaseUsers(r.Context(), r.PathValue("groupId"), p)
	}, viewDatabaseUser)
}

func (s *server) getDatabaseUser() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.DatabaseUser, error) {
		g, db, name := userPath(r)
		return s.cfg.DatabaseAccess.GetDatabaseUser(r.Context(), g, db, name)
	}, viewDatabaseUser)
}

func (s *server) createDatabaseUser() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *databaseUserBody) (*flexd.DatabaseUser, error) {
		g := r.PathValue("groupId")
		c, err := in.create(g)
		if err != nil {
			return nil, err
		}
		return s.cfg.DatabaseAccess.CreateDatabaseUser(r.Context(), g, c)
	}, viewDatabaseUser)
}

// updateDatabaseUser answers the whole user, also for a change of password
// alone (as Atlas does).
func (s *server) updateDatabaseUser() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *databaseUserBody) (*flexd.DatabaseUser, error) {
		g, db, name := userPath(r)
		u, err := in.update(g)
		if err != nil {
			return nil, err
		}
		return s.cfg.DatabaseAccess.UpdateDatabaseUser(r.Context(), g, db, name, u)
	}, viewDatabaseUser)
}

func (s *server) deleteDatabaseUser() http.Handler {
	return remove(s, func(r *http.Request) error {
		g, db, name := userPath(r)
		return s.cfg.DatabaseAccess.DeleteDatabaseUser(r.Context(), g, db, name)
	})
}
