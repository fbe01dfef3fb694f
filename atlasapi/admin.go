package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// takeSnapshot is flexd's drill route: Atlas takes Flex snapshots on its
// own schedule only, so tests and restore drills need a way to take one
// now. It answers 201 with the snapshot in the FlexBackupSnapshot20241113
// shape, as application/json (the route is not part of the versioned API).
func (s *server) takeSnapshot() http.Handler {
	return one(s, http.StatusCreated, func(r *http.Request) (*flexd.Snapshot, error) {
		return s.cfg.Backups.TakeSnapshot(r.Context(), r.PathValue("groupId"), r.PathValue("name"))
	}, viewSnapshot)
}

// healthStatus is the body of a passing probe.
type healthStatus struct {
	Status string `json:"status"`
}

var ok = &healthStatus{Status: "ok"}

// healthz says the process serves HTTP.
func (s *server) healthz() http.Handler {
	return one(s, http.StatusOK, func(*http.Request) (*healthStatus, error) { return ok, nil }, viewHealth)
}

// readyz says the store is reachable too. A failing probe is logged for the
// operator and answered with the Atlas-shaped 503.
func (s *server) readyz() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*healthStatus, error) {
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(r.Context()); err != nil {
				s.log.WarnContext(r.Context(), "not ready", "request_id", stateOf(r).id, "err", err)
				return nil, flexd.ServiceUnavailable()
			}
		}
		return ok, nil
	}, viewHealth)
}

func viewHealth(_ string, h *healthStatus) *healthStatus { return h }
