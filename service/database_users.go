package service

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dbauth"
	"github.com/xdg-go/stringprep"
)

var _ flexd.DatabaseAccessService = (*Service)(nil)

// Limits from the spec's CloudDatabaseUser and Atlas's documentation.
const (
	maxUsernameLen   = 1024
	minPasswordLen   = 8
	maxUserDescLen   = 100
	maxLabelLen      = 255
	maxTemporaryDays = 7 // deleteAfterDate: at most a week ahead
	externalDatabase = "$external"
	maxDatabaseName  = 63
)

// databaseRoles are the built-in roles flexd serves, and whether a
// collection may narrow each. The roles that span databases exist only on
// admin (atlasAdmin, the *AnyDatabase roles).
var databaseRoles = map[string]struct{ adminOnly, collection bool }{
	"atlasAdmin":           {adminOnly: true},
	"readWriteAnyDatabase": {adminOnly: true},
	"readAnyDatabase":      {adminOnly: true},
	"readWrite":            {collection: true},
	"read":                 {collection: true},
	"dbAdmin":              {},
}

// restrictedRoles are built-in roles Atlas offers that flexd's clusters do
// not serve: Atlas's word for such a role is "restricted".
var restrictedRoles = []string{"backup", "clusterMonitor", "dbAdminAnyDatabase", "enableSharding"}

// authTypes are the four non-SCRAM authentication kinds of a database user
// and the values Atlas knows for each. flexd serves SCRAM only: NONE.
var authTypes = map[string][]string{
	"awsIAMType":   {"NONE", "USER", "ROLE"},
	"ldapAuthType": {"NONE", "GROUP", "USER"},
	"oidcAuthType": {"NONE", "IDP_GROUP", "USER"},
	"x509Type":     {"NONE", "CUSTOMER", "MANAGED"},
}

// checkAuthTypes validates the …Type fields a body gave: an unknown value
// is INVALID_ENUM_VALUE, a known one other than NONE is refused with
// unsupported(field, value).
func checkAuthTypes(given map[string]string, unsupported func(field, value string) error) error {
	for _, field := range []string{"awsIAMType", "ldapAuthType", "oidcAuthType", "x509Type"} {
		v, ok := given[field]
		if !ok || v == "NONE" {
			continue
		}
		if !slices.Contains(authTypes[field], v) {
			return flexd.InvalidEnumValue(v)
		}
		return unsupported(field, v)
	}
	return nil
}

func validateUsername(name string) error {
	if name == "" {
		return flexd.MissingAttribute("username")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxUsernameLen ||
		strings.ContainsFunc(name, unicode.IsControl) {
		return flexd.AtlasInvalidUsername(name)
	}
	return nil
}

func validatePassword(password string) error {
	if utf8.RuneCountInString(password) < minPasswordLen {
		return flexd.InvalidAttribute("password")
	}
	if _, err := stringprep.SASLprep.Prepare(password); err != nil {
		return flexd.InvalidAttribute("password")
	}
	return nil
}

// validDatabaseName applies MongoDB's rules for database names.
func validDatabaseName(name string) bool {
	return name != "" && len(name) <= maxDatabaseName && !strings.ContainsAny(name, "/\\. \"$*<>:|?\x00")
}

// validCollectionName applies MongoDB's rules for collection names a role
// may name.
func validCollectionName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "$\x00") && !strings.HasPrefix(name, "system.")
}

// checkRoles validates a user's roles and returns them without repeats in
// the caller's order.
func checkRoles(username string, roles []flexd.DatabaseUserRole) ([]flexd.DatabaseUserRole, error) {
	out := make([]flexd.DatabaseUserRole, 0, len(roles))
	for _, r := range roles {
		def, known := databaseRoles[r.RoleName]
		switch {
		case slices.Contains(restrictedRoles, r.RoleName):
			return nil, flexd.AtlasRestrictedRole(r.RoleName, r.DatabaseName)
		case !known:
			return nil, flexd.AtlasInvalidRole(r.RoleName, r.DatabaseName)
		case !validDatabaseName(r.DatabaseName):
			return nil, flexd.InvalidDatabaseName(r.DatabaseName)
		case def.adminOnly && r.DatabaseName != flexd.AdminDatabase:
			return nil, flexd.AtlasInvalidRoleDatabase(r.RoleName, flexd.AdminDatabase)
		case r.CollectionName != "" && !def.collection:
			return nil, flexd.InvalidAttribute("roles.collectionName")
		case r.CollectionName != "" && !validCollectionName(r.CollectionName):
			return nil, flexd.InvalidCollectionName(r.CollectionName)
		}
		if slices.Contains(out, r) {
			name := r.RoleName + "@" + r.DatabaseName
			if r.CollectionName != "" {
				name += "." + r.CollectionName
			}
			return nil, flexd.DuplicateDatabaseRoles(username, name)
		}
		out = append(out, r)
	}
	return out, nil
}

// checkScopes validates scopes against the project's clusters: each names
// a cluster of the project (CLUSTER_NOT_FOUND otherwise); data lakes and
// stream instances do not exist in flexd.
func (s *Service) checkScopes(ctx context.Context, groupID string, scopes []flexd.UserScope) ([]flexd.UserScope, error) {
	out := make([]flexd.UserScope, 0, len(scopes))
	for _, sc := range scopes {
		switch sc.Type {
		case flexd.ScopeCluster:
		case "DATA_LAKE", "STREAM":
			return nil, flexd.FeatureUnsupported("database user scopes of type " + sc.Type)
		default:
			return nil, flexd.InvalidEnumValue(sc.Type)
		}
		if _, err := s.cluster(ctx, groupID, sc.Name); err != nil {
			return nil, err
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func validateLabels(labels []flexd.Tag) error {
	for _, l := range labels {
		if n := utf8.RuneCountInString(l.Key); n < 1 || n > maxLabelLen {
			return flexd.InvalidAttribute("labels.key")
		}
		if n := utf8.RuneCountInString(l.Value); n < 1 || n > maxLabelLen {
			return flexd.InvalidAttribute("labels.value")
		}
	}
	return nil
}

// checkDeleteAfter applies Atlas's window for temporary users and entries:
// after now, at most a week ahead. The zero time means permanent.
func checkDeleteAfter(t, now time.Time) error {
	switch {
	case t.IsZero():
		return nil
	case !t.After(now):
		return flexd.ExpirationDateInPast()
	case t.After(now.AddDate(0, 0, maxTemporaryDays)):
		return flexd.ExpirationDateExceedsMax(maxTemporaryDays)
	}
	return nil
}

// checkUserDatabase validates the authentication database of a SCRAM user:
// admin (the spec's default when none is given).
func checkUserDatabase(db string) error {
	switch db {
	case flexd.AdminDatabase:
		return nil
	case externalDatabase:
		return flexd.DatabaseNameInvalidAdmin("SCRAM users")
	}
	return flexd.InvalidEnumValue(db)
}

// ListDatabaseUsers lists the project's users that have not expired.
func (s *Service) ListDatabaseUsers(ctx context.Context, groupID string, p flexd.Page) ([]flexd.DatabaseUser, int, error) {
	users, total, err := s.store.ListDatabaseUsers(ctx, groupID, s.clock.Now(), p)
	if err != nil {
		return nil, 0, internal("list database users", err)
	}
	return users, total, nil
}

// GetDatabaseUser returns one user; an expired one is gone.
func (s *Service) GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (*flexd.DatabaseUser, error) {
	u, err := s.store.GetDatabaseUser(ctx, groupID, databaseName, username)
	if err == nil && u.Expired(s.clock.Now()) {
		err = flexd.ErrNotFound
	}
	if err != nil {
		return nil, databaseUserErr("get database user", err, username)
	}
	return u, nil
}

// databaseUserErr answers a store error about database user username:
// USERNAME_NOT_FOUND when there is no such user, otherwise a failure of op.
func databaseUserErr(op string, err error, username string) error {
	if isNotFound(err) {
		return flexd.UsernameNotFound(username)
	}
	return internal(op, err)
}

// CreateDatabaseUser creates a SCRAM user, keeping only its SCRAM keys.
func (s *Service) CreateDatabaseUser(ctx context.Context, groupID string, c flexd.DatabaseUserCreate) (*flexd.DatabaseUser, error) {
	now := s.clock.Now()
	if c.DatabaseName == "" {
		c.DatabaseName = flexd.AdminDatabase
	}
	if err := checkUserDatabase(c.DatabaseName); err != nil {
		return nil, err
	}
	unsupported := func(field, value string) error {
		return flexd.FeatureUnsupported("database users with " + field + " " + value + " (flexd authenticates with SCRAM only)")
	}
	if err := checkAuthTypes(c.AuthTypes, unsupported); err != nil {
		return nil, err
	}
	if err := validateUsername(c.Username); err != nil {
		return nil, err
	}
	if c.Password == "" {
		return nil, flexd.MissingAttribute("password")
	}
	u := &flexd.DatabaseUser{GroupID: groupID, DatabaseName: c.DatabaseName, Username: c.Username,
		DeleteAfterDate: flexd.TimeOrZero(c.DeleteAfterDate), Created: now}
	if err := s.applyUserFields(ctx, u, c.Description, c.Roles, c.Scopes, c.Labels, now); err != nil {
		return nil, err
	}
	if err := s.setPassword(u, c.Password); err != nil {
		return nil, err
	}
	if err := s.store.DeleteExpiredDatabaseUsers(ctx, groupID, now); err != nil {
		return nil, internal("purge expired database users", err)
	}
	err := s.store.CreateDatabaseUser(ctx, u)
	switch {
	case isConflict(err):
		return nil, flexd.UserAlreadyExists(c.Username)
	case err != nil:
		return nil, projectErr("create database user", err, groupID)
	}
	return u, nil
}

// applyUserFields checks and sets what create and update share.
func (s *Service) applyUserFields(ctx context.Context, u *flexd.DatabaseUser, desc string, roles []flexd.DatabaseUserRole,
	scopes []flexd.UserScope, labels []flexd.Tag, now time.Time) error {
	if utf8.RuneCountInString(desc) > maxUserDescLen {
		return flexd.InvalidAttribute("description")
	}
	var err error
	if u.Roles, err = checkRoles(u.Username, roles); err != nil {
		return err
	}
	if u.Scopes, err = s.checkScopes(ctx, u.GroupID, scopes); err != nil {
		return err
	}
	if err := validateLabels(labels); err != nil {
		return err
	}
	if err := checkDeleteAfter(u.DeleteAfterDate, now); err != nil {
		return err
	}
	u.Description, u.Labels = desc, slices.Clone(labels)
	return nil
}

// setPassword gives u the SCRAM keys of password; the password goes no
// further.
func (s *Service) setPassword(u *flexd.DatabaseUser, password string) error {
	if err := validatePassword(password); err != nil {
		return err
	}
	creds, err := dbauth.NewCredentials(u.Username, password)
	if err != nil {
		return internal("derive SCRAM keys", err)
	}
	u.SCRAM = creds
	return nil
}

// UpdateDatabaseUser changes the fields the update sets; the user's name,
// authentication database and kind stay.
func (s *Service) UpdateDatabaseUser(ctx context.Context, groupID, databaseName, username string, up flexd.DatabaseUserUpdate) (*flexd.DatabaseUser, error) {
	u, err := s.GetDatabaseUser(ctx, groupID, databaseName, username)
	if err != nil {
		return nil, err
	}
	if up.DatabaseName != nil && *up.DatabaseName != u.DatabaseName {
		return nil, flexd.DatabaseNameCannotBeChanged()
	}
	if up.Username != nil && *up.Username != u.Username {
		return nil, flexd.DatabaseUsernameCannotBeChanged()
	}
	changed := func(string, string) error { return flexd.AuthTypeCannotBeChanged() }
	if err := checkAuthTypes(up.AuthTypes, changed); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	desc, roles, scopes, labels := u.Description, u.Roles, u.Scopes, u.Labels
	roles0, scopes0 := slices.Clone(u.Roles), slices.Clone(u.Scopes)
	if up.Description != nil {
		desc = *up.Description
	}
	if up.Roles != nil {
		roles = *up.Roles
	}
	if up.Scopes != nil {
		scopes = *up.Scopes
	}
	if up.Labels != nil {
		labels = *up.Labels
	}
	if up.DeleteAfterDate != nil {
		u.DeleteAfterDate = flexd.TimeOrZero(*up.DeleteAfterDate)
	}
	if err := s.applyUserFields(ctx, u, desc, roles, scopes, labels, now); err != nil {
		return nil, err
	}
	if up.Password != nil {
		if err := s.setPassword(u, *up.Password); err != nil {
			return nil, err
		}
	}
	// What a connection authenticated with, or may do, changed: it ends
	// (a new password must not leave the old one's sessions open).
	revoke := up.Password != nil || !slices.Equal(roles0, u.Roles) || !slices.Equal(scopes0, u.Scopes)
	if err := s.store.UpdateDatabaseUser(ctx, u); err != nil {
		return nil, databaseUserErr("update database user", err, username)
	}
	if revoke && s.cfg.Access != nil {
		s.cfg.Access.DatabaseUserChanged(groupID, u.Username)
	}
	return u, nil
}

// DeleteDatabaseUser removes a user; an expired one is already gone.
func (s *Service) DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string) error {
	if err := s.store.DeleteExpiredDatabaseUsers(ctx, groupID, s.clock.Now()); err != nil {
		return internal("purge expired database users", err)
	}
	if err := s.store.DeleteDatabaseUser(ctx, groupID, databaseName, username); err != nil {
		return databaseUserErr("delete database user", err, username)
	}
	if s.cfg.Access != nil {
		s.cfg.Access.DatabaseUserChanged(groupID, username)
	}
	return nil
}
