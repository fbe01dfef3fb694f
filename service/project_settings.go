package service

import (
	"context"
	"maps"
	"slices"

	"github.com/flexd/flexd"
)

var _ flexd.ProjectSettingsService = (*Service)(nil)

// GetProjectSettings returns every setting: the project's own over the
// defaults.
func (s *Service) GetProjectSettings(ctx context.Context, groupID string) (*flexd.ProjectSettings, error) {
	set, err := s.store.ProjectSettings(ctx, groupID)
	if err != nil {
		return nil, internal("read project settings", err)
	}
	out := maps.Clone(flexd.DefaultProjectSettings)
	for name := range out {
		if v, ok := set[name]; ok {
			out[name] = v
		}
	}
	return &out, nil
}

// UpdateProjectSettings sets the settings u names (only known ones reach
// here: the transport's body type has no others).
func (s *Service) UpdateProjectSettings(ctx context.Context, groupID string, u flexd.ProjectSettings) (*flexd.ProjectSettings, error) {
	for name := range u {
		if _, ok := flexd.DefaultProjectSettings[name]; !ok {
			return nil, flexd.InvalidAttribute(name)
		}
	}
	if len(u) > 0 {
		if err := s.store.SetProjectSettings(ctx, groupID, u); err != nil {
			return nil, projectErr("update project settings", err, groupID)
		}
	}
	return s.GetProjectSettings(ctx, groupID)
}

// ListProjectLimits lists every limit with a default and every limit the
// project set, by name.
func (s *Service) ListProjectLimits(ctx context.Context, groupID string) ([]flexd.ProjectLimit, error) {
	set, usage, err := s.projectLimits(ctx, groupID)
	if err != nil {
		return nil, err
	}
	var out []flexd.ProjectLimit
	for _, name := range slices.Sorted(maps.Keys(flexd.ProjectLimits)) {
		if l, ok := projectLimit(name, set, usage); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// GetProjectLimit returns one limit; a limit without a default that the
// project never set does not exist.
func (s *Service) GetProjectLimit(ctx context.Context, groupID, name string) (*flexd.ProjectLimit, error) {
	if err := knownLimit(name); err != nil {
		return nil, err
	}
	set, usage, err := s.projectLimits(ctx, groupID)
	if err != nil {
		return nil, err
	}
	l, ok := projectLimit(name, set, usage)
	if !ok {
		return nil, flexd.ResourceNotFound("limit " + name)
	}
	return &l, nil
}

// SetProjectLimit sets a limit within its bounds.
func (s *Service) SetProjectLimit(ctx context.Context, groupID, name string, value int64) (*flexd.ProjectLimit, error) {
	if err := knownLimit(name); err != nil {
		return nil, err
	}
	def := flexd.ProjectLimits[name]
	if value < def.Minimum || (def.Maximum > 0 && value > def.Maximum) {
		return nil, flexd.InvalidAttribute("value")
	}
	if err := s.store.SetProjectLimitValue(ctx, groupID, name, value); err != nil {
		return nil, projectErr("set project limit", err, groupID)
	}
	return s.GetProjectLimit(ctx, groupID, name)
}

// DeleteProjectLimit forgets what the project set: a limit with a default
// returns to it, one without is gone.
func (s *Service) DeleteProjectLimit(ctx context.Context, groupID, name string) error {
	if err := knownLimit(name); err != nil {
		return err
	}
	if err := s.store.DeleteProjectLimitValue(ctx, groupID, name); err != nil {
		return internal("delete project limit", err)
	}
	return nil
}

func knownLimit(name string) error {
	if _, ok := flexd.ProjectLimits[name]; !ok {
		return flexd.InvalidPathParameter("limitName")
	}
	return nil
}

// projectLimit is limit name as the project has it, if it has it.
func projectLimit(name string, set map[string]int64, usage map[string]int64) (flexd.ProjectLimit, bool) {
	def := flexd.ProjectLimits[name]
	v, ok := set[name]
	if !ok {
		if def.Default == 0 {
			return flexd.ProjectLimit{}, false
		}
		v = def.Default
	}
	return flexd.ProjectLimit{Name: name, Value: v, Default: def.Default, Maximum: def.Maximum,
		CurrentUsage: usage[name]}, true
}

// projectLimits reads what the project set of its limits, and what it uses
// of those flexd can count: its clusters (Flex clusters count against
// Atlas's cluster limit).
func (s *Service) projectLimits(ctx context.Context, groupID string) (set, usage map[string]int64, err error) {
	if set, err = s.store.ProjectLimitValues(ctx, groupID); err != nil {
		return nil, nil, internal("read project limits", err)
	}
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, nil, err
	}
	return set, map[string]int64{"atlas.project.deployment.clusters": p.ClusterCount}, nil
}

// GetProjectIPAddresses lists the project's clusters. flexd serves every
// cluster from its own listener, with no address of a cluster's own to
// allow in a firewall, so each cluster's lists are empty.
func (s *Service) GetProjectIPAddresses(ctx context.Context, groupID string) (*flexd.ProjectIPAddresses, error) {
	p, err := s.GetProject(ctx, groupID)
	if err != nil {
		return nil, err
	}
	out := &flexd.ProjectIPAddresses{GroupID: groupID, Clusters: []flexd.ClusterIPAddresses{}}
	for num := 1; ; num++ {
		cs, _, err := s.ListFlexClusters(ctx, p, flexd.Page{Num: num, ItemsPerPage: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out.Clusters = append(out.Clusters, flexd.ClusterIPAddresses{ClusterName: c.Name})
		}
		if len(cs) < 500 {
			return out, nil
		}
	}
}

// ManagedSlowMs reports whether the managed slow operation threshold is on
// (Atlas's default).
func (s *Service) ManagedSlowMs(ctx context.Context, groupID string) (bool, error) {
	set, err := s.store.ProjectSettings(ctx, groupID)
	if err != nil {
		return false, internal("read project settings", err)
	}
	on, ok := set[flexd.ManagedSlowMsSetting]
	return on || !ok, nil
}

// SetManagedSlowMs turns the managed slow operation threshold on or off.
func (s *Service) SetManagedSlowMs(ctx context.Context, groupID string, enabled bool) error {
	err := s.store.SetProjectSettings(ctx, groupID, flexd.ProjectSettings{flexd.ManagedSlowMsSetting: enabled})
	if err != nil {
		return projectErr("set managed slow ms", err, groupID)
	}
	return nil
}
