package service

import (
	"context"
	"errors"
	"time"

	"github.com/flexd/flexd"
)

// Region usage restrictions a project may declare.
var regionUsageRestrictions = map[string]bool{
	"COMMERCIAL_FEDRAMP_REGIONS_ONLY": true,
	"GOV_REGIONS_ONLY":                true,
}

// CreateProject creates a project in c.OrgID, or in the default organization.
func (s *Service) CreateProject(ctx context.Context, c flexd.ProjectCreate) (*flexd.Project, error) {
	if c.OrgID == "" {
		c.OrgID = s.defaultOrgID
	}
	p, err := s.NewProject(c, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if _, err := s.GetOrganization(ctx, c.OrgID); err != nil {
		return nil, err
	}
	if owner, ok := ownerOfNewProject(ctx, c.OrgID); ok {
		err = s.store.CreateOwnedProject(ctx, p, owner)
	} else {
		err = s.store.CreateProject(ctx, p)
	}
	if isConflict(err) {
		return nil, flexd.GroupAlreadyExists(c.Name)
	}
	if err != nil {
		return nil, internal("create project", err)
	}
	return p, nil
}

// NewProject validates c and returns the project a create stores, created
// at now, with Atlas's defaults. It stores nothing; seeding (package seed)
// uses it so that a seeded project is the same as one the API creates.
func (s *Service) NewProject(c flexd.ProjectCreate, now time.Time) (*flexd.Project, error) {
	if !groupNamePattern.MatchString(c.Name) {
		return nil, flexd.InvalidGroupName(c.Name)
	}
	if c.RegionUsageRestrictions == "" {
		c.RegionUsageRestrictions = "COMMERCIAL_FEDRAMP_REGIONS_ONLY"
	}
	if !regionUsageRestrictions[c.RegionUsageRestrictions] {
		return nil, flexd.InvalidEnumValue(c.RegionUsageRestrictions)
	}
	if err := validateTags(c.Tags); err != nil {
		return nil, err
	}
	if !flexd.ValidID(c.OrgID) {
		return nil, flexd.InvalidOrgID(c.OrgID)
	}
	id := flexd.NewID(now)
	entries := make([]flexd.AccessListEntry, len(s.cfg.InitialAccessList))
	for i, e := range s.cfg.InitialAccessList {
		e.GroupID, e.Created = id, now
		entries[i] = e
	}
	return &flexd.Project{
		ID:                      id,
		AccessList:              entries,
		OrgID:                   c.OrgID,
		Name:                    c.Name,
		Created:                 now,
		Tags:                    cloneTags(c.Tags),
		RegionUsageRestrictions: c.RegionUsageRestrictions,

		WithDefaultAlertsSettings: !c.WithoutDefaultAlertsSettings,
	}, nil
}

// ownerOfNewProject is the principal a project created in orgID by the
// caller must be granted to: Atlas makes the creator Project Owner. An
// ORG_OWNER already is one of every project of its organization; with
// authentication off, or for a principal that is no stored credential (no
// id), there is nobody to grant.
func ownerOfNewProject(ctx context.Context, orgID string) (flexd.ProjectOwner, bool) {
	p := flexd.PrincipalFrom(ctx)
	if p == nil || p.All || p.HasOrgRole(orgID, flexd.RoleOrgOwner) {
		return flexd.ProjectOwner{}, false
	}
	if p.ID == "" || p.Kind != flexd.KindAPIKey && p.Kind != flexd.KindServiceAccount {
		return flexd.ProjectOwner{}, false
	}
	return flexd.ProjectOwner{Kind: p.Kind, ID: p.ID}, true
}

// GetProject returns a project or GROUP_NOT_FOUND.
func (s *Service) GetProject(ctx context.Context, id string) (*flexd.Project, error) {
	if !flexd.ValidID(id) {
		return nil, flexd.InvalidGroupID(id)
	}
	p, err := s.store.GetProject(ctx, id)
	if err != nil {
		return nil, projectErr("get project", err, id)
	}
	return p, nil
}

// projectErr answers a store error about project groupID: GROUP_NOT_FOUND
// when there is no such project, otherwise a failure of op.
func projectErr(op string, err error, groupID string) error {
	if isNotFound(err) {
		return flexd.GroupNotFound(groupID)
	}
	return internal(op, err)
}

// ListProjects lists projects matching f.
func (s *Service) ListProjects(ctx context.Context, f flexd.ProjectFilter, p flexd.Page) ([]flexd.Project, int, error) {
	ps, total, err := s.store.ListProjects(ctx, f, p)
	if err != nil {
		return nil, 0, internal("list projects", err)
	}
	return ps, total, nil
}

// UpdateProject renames a project or replaces its tags.
func (s *Service) UpdateProject(ctx context.Context, id string, u flexd.ProjectUpdate) (*flexd.Project, error) {
	p, err := s.GetProject(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		if !groupNamePattern.MatchString(*u.Name) {
			return nil, flexd.InvalidGroupName(*u.Name)
		}
		p.Name = *u.Name
	}
	if u.Tags != nil {
		if err := validateTags(*u.Tags); err != nil {
			return nil, err
		}
		p.Tags = cloneTags(*u.Tags)
	}
	err = s.store.UpdateProject(ctx, p)
	switch {
	case isConflict(err):
		return nil, flexd.GroupAlreadyExists(p.Name)
	case err != nil:
		return nil, projectErr("update project", err, id)
	}
	return p, nil
}

// DeleteProject deletes a project that has no clusters left.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	if !flexd.ValidID(id) {
		return flexd.InvalidGroupID(id)
	}
	err := s.store.DeleteProject(ctx, id)
	switch {
	case errors.Is(err, flexd.ErrNotEmpty):
		return flexd.CannotCloseGroupActiveAtlasClusters()
	case err != nil:
		return projectErr("delete project", err, id)
	}
	return nil
}
