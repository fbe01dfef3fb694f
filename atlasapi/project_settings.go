package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// What the official clients read and write around a project (Terraform's
// mongodbatlas_project reads all of it on every refresh): settings, limits,
// teams, the cluster addresses and the managed slow operation threshold.

// groupSettingsUpdate is the body of PATCH /groups/{groupId}/settings: the
// spec's GroupSettings, plus the settings real Atlas answers beyond it
// (ATLAS-NOTES §7), since clients send back what they read.
type groupSettingsUpdate struct {
	IsAtlasHomePageAiAssistantEnabled               *bool `json:"isAtlasHomePageAiAssistantEnabled"`
	IsClusterAiAssistantEnabled                     *bool `json:"isClusterAiAssistantEnabled"`
	IsCollectDatabaseSpecificsStatisticsEnabled     *bool `json:"isCollectDatabaseSpecificsStatisticsEnabled"`
	IsDataExplorerEnabled                           *bool `json:"isDataExplorerEnabled"`
	IsDataExplorerGenAIFeaturesEnabled              *bool `json:"isDataExplorerGenAIFeaturesEnabled"`
	IsDataExplorerGenAISampleDocumentPassingEnabled *bool `json:"isDataExplorerGenAISampleDocumentPassingEnabled"`
	IsDataValidationEnabled                         *bool `json:"isDataValidationEnabled"`
	IsExtendedStorageSizesEnabled                   *bool `json:"isExtendedStorageSizesEnabled"`
	IsNativeRerankingEnabled                        *bool `json:"isNativeRerankingEnabled"`
	IsPerformanceAdvisorEnabled                     *bool `json:"isPerformanceAdvisorEnabled"`
	IsRealtimePerformancePanelEnabled               *bool `json:"isRealtimePerformancePanelEnabled"`
	IsSchemaAdvisorEnabled                          *bool `json:"isSchemaAdvisorEnabled"`
}

// settings are the values the body sets, by their wire names.
func (u *groupSettingsUpdate) settings() flexd.ProjectSettings {
	out := flexd.ProjectSettings{}
	for name, v := range map[string]*bool{
		"isAtlasHomePageAiAssistantEnabled":               u.IsAtlasHomePageAiAssistantEnabled,
		"isClusterAiAssistantEnabled":                     u.IsClusterAiAssistantEnabled,
		"isCollectDatabaseSpecificsStatisticsEnabled":     u.IsCollectDatabaseSpecificsStatisticsEnabled,
		"isDataExplorerEnabled":                           u.IsDataExplorerEnabled,
		"isDataExplorerGenAIFeaturesEnabled":              u.IsDataExplorerGenAIFeaturesEnabled,
		"isDataExplorerGenAISampleDocumentPassingEnabled": u.IsDataExplorerGenAISampleDocumentPassingEnabled,
		"isDataValidationEnabled":                         u.IsDataValidationEnabled,
		"isExtendedStorageSizesEnabled":                   u.IsExtendedStorageSizesEnabled,
		"isNativeRerankingEnabled":                        u.IsNativeRerankingEnabled,
		"isPerformanceAdvisorEnabled":                     u.IsPerformanceAdvisorEnabled,
		"isRealtimePerformancePanelEnabled":               u.IsRealtimePerformancePanelEnabled,
		"isSchemaAdvisorEnabled":                          u.IsSchemaAdvisorEnabled,
	} {
		if v != nil {
			out[name] = *v
		}
	}
	return out
}

// viewSettings is GroupSettings: the settings by name (encoding/json sorts
// the keys) and no links, as Atlas answers them.
func viewSettings(_ string, ps *flexd.ProjectSettings) map[string]bool { return *ps }

func (s *server) getProjectSettings() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.ProjectSettings, error) {
		return s.cfg.Settings.GetProjectSettings(r.Context(), r.PathValue("groupId"))
	}, viewSettings)
}

func (s *server) updateProjectSettings() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *groupSettingsUpdate) (*flexd.ProjectSettings, error) {
		return s.cfg.Settings.UpdateProjectSettings(r.Context(), r.PathValue("groupId"), in.settings())
	}, viewSettings)
}

// limitView is DataFederationLimit (its DefaultLimit form when the limit
// has a default).
type limitView struct {
	CurrentUsage *int64 `json:"currentUsage,omitempty"`
	DefaultLimit *int64 `json:"defaultLimit,omitempty"`
	MaximumLimit *int64 `json:"maximumLimit,omitempty"`
	Name         string `json:"name"`
	Value        int64  `json:"value"`
}

func viewLimit(_ string, l *flexd.ProjectLimit) limitView {
	v := limitView{Name: l.Name, Value: l.Value}
	if l.Default > 0 {
		usage, def, max := l.CurrentUsage, l.Default, l.Maximum
		v.CurrentUsage, v.DefaultLimit, v.MaximumLimit = &usage, &def, &max
	}
	return v
}

// limitUpdate is the body of PATCH /limits/{limitName}: name is read-only
// (the path names the limit) and value required.
type limitUpdate struct {
	Value *int64 `json:"value" atlas:"required"`
}

func (limitUpdate) ignored() []string {
	return []string{"name", "currentUsage", "defaultLimit", "maximumLimit"}
}

// limitsView is the bare array GET /limits answers (no paging).
type limitsView []limitView

func (s *server) listProjectLimits() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*[]flexd.ProjectLimit, error) {
		ls, err := s.cfg.Settings.ListProjectLimits(r.Context(), r.PathValue("groupId"))
		return &ls, err
	}, func(base string, ls *[]flexd.ProjectLimit) limitsView {
		out := limitsView{}
		for i := range *ls {
			out = append(out, viewLimit(base, &(*ls)[i]))
		}
		return out
	})
}

func (s *server) getProjectLimit() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.ProjectLimit, error) {
		return s.cfg.Settings.GetProjectLimit(r.Context(), r.PathValue("groupId"), r.PathValue("limitName"))
	}, viewLimit)
}

func (s *server) setProjectLimit() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *limitUpdate) (*flexd.ProjectLimit, error) {
		return s.cfg.Settings.SetProjectLimit(r.Context(), r.PathValue("groupId"), r.PathValue("limitName"), *in.Value)
	}, viewLimit)
}

func (s *server) deleteProjectLimit() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Settings.DeleteProjectLimit(r.Context(), r.PathValue("groupId"), r.PathValue("limitName"))
	})
}

// teamRoleView is TeamRole. flexd has no teams, so none is ever listed.
type teamRoleView struct{}

// listProjectTeams answers an empty page: flexd has no teams.
func (s *server) listProjectTeams() http.Handler {
	return list(s, func(*http.Request, flexd.Page) ([]teamRoleView, int, error) {
		return nil, 0, nil
	}, func(_ string, t *teamRoleView) teamRoleView { return *t })
}

// ipAddressesView is GroupIPAddresses.
type ipAddressesView struct {
	GroupID  string `json:"groupId"`
	Services struct {
		Clusters []clusterIPAddressesView `json:"clusters"`
	} `json:"services"`
}

// clusterIPAddressesView is ClusterIPAddresses: every list present, empty
// when there is nothing in it.
type clusterIPAddressesView struct {
	ClusterName    string   `json:"clusterName"`
	FutureInbound  []string `json:"futureInbound"`
	FutureOutbound []string `json:"futureOutbound"`
	Inbound        []string `json:"inbound"`
	Outbound       []string `json:"outbound"`
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func viewIPAddresses(_ string, a *flexd.ProjectIPAddresses) ipAddressesView {
	v := ipAddressesView{GroupID: a.GroupID}
	v.Services.Clusters = make([]clusterIPAddressesView, len(a.Clusters))
	for i, c := range a.Clusters {
		v.Services.Clusters[i] = clusterIPAddressesView{ClusterName: c.ClusterName,
			FutureInbound: orEmpty(c.FutureInbound), FutureOutbound: orEmpty(c.FutureOutbound),
			Inbound: orEmpty(c.Inbound), Outbound: orEmpty(c.Outbound)}
	}
	return v
}

func (s *server) getProjectIPAddresses() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.ProjectIPAddresses, error) {
		return s.cfg.Settings.GetProjectIPAddresses(r.Context(), r.PathValue("groupId"))
	}, viewIPAddresses)
}

// getManagedSlowMs answers a bare JSON boolean, as the spec says.
func (s *server) getManagedSlowMs() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*bool, error) {
		on, err := s.cfg.Settings.ManagedSlowMs(r.Context(), r.PathValue("groupId"))
		return &on, err
	}, func(_ string, on *bool) bool { return *on })
}

// setManagedSlowMs answers POST …/managedSlowMs/enable and
// DELETE …/managedSlowMs/disable: 204.
func (s *server) setManagedSlowMs(enabled bool) http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Settings.SetManagedSlowMs(r.Context(), r.PathValue("groupId"), enabled)
	})
}
