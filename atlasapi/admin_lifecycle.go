package atlasapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/flexd/flexd"
)

// flexd's lifecycle drills: read and advance the clock, inject faults,
// reset, and the unauthenticated download links. They answer plain
// application/json: they are not part of the versioned Atlas API.

// lifecycle returns the lifecycle service, or the error every drill
// answers when the server has none.
func (s *server) lifecycle() (flexd.LifecycleService, error) {
	if s.cfg.Lifecycle == nil {
		return nil, flexd.FeatureUnsupported("this flexd runs without a lifecycle engine")
	}
	return s.cfg.Lifecycle, nil
}

// clockView is the body of GET /_flexd/clock and of an advance.
type clockView struct {
	Now    atlasTime `json:"now"`
	Manual bool      `json:"manual"`
}

func viewClock(_ string, c *flexd.ClockState) clockView {
	return clockView{Now: atlasTime(c.Now), Manual: c.Manual}
}

func (s *server) getClock() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.ClockState, error) {
		l, err := s.lifecycle()
		if err != nil {
			return nil, err
		}
		return l.Clock(r.Context())
	}, viewClock)
}

// clockAdvance is {"by": "24h"}: a Go duration, as the --*-time flags take.
type clockAdvance struct {
	By string `json:"by" atlas:"required"`
}

// advanceClock answers once everything that came due has run.
func (s *server) advanceClock() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *clockAdvance) (*flexd.ClockState, error) {
		l, err := s.lifecycle()
		if err != nil {
			return nil, err
		}
		d, perr := time.ParseDuration(in.By)
		if perr != nil {
			return nil, flexd.InvalidAttribute("by")
		}
		return l.AdvanceClock(r.Context(), d)
	}, viewClock)
}

// faultCreate is the body of the fault injection drill.
type faultCreate struct {
	Operation string `json:"operation" atlas:"required"`
	Count     int    `json:"count" atlas:"required"`
	Reason    string `json:"reason"`
}

// faultView echoes what was injected.
type faultView struct {
	Operation flexd.FaultOperation `json:"operation"`
	Count     int                  `json:"count"`
	Reason    string               `json:"reason"`
}

func viewFault(_ string, f *flexd.Fault) faultView {
	return faultView{Operation: f.Operation, Count: f.Count, Reason: f.Reason}
}

func (s *server) injectFault() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *faultCreate) (*flexd.Fault, error) {
		l, err := s.lifecycle()
		if err != nil {
			return nil, err
		}
		return l.InjectFault(r.Context(), r.PathValue("groupId"), r.PathValue("name"), flexd.FaultRequest{
			Operation: flexd.FaultOperation(in.Operation), Count: in.Count, Reason: in.Reason,
		})
	}, viewFault)
}

// reset answers 204 once the caller's projects are gone.
func (s *server) reset() http.Handler {
	return remove(s, func(r *http.Request) error {
		l, err := s.lifecycle()
		if err != nil {
			return err
		}
		return l.Reset(r.Context())
	})
}

// download serves a DOWNLOAD job's snapshotUrl: no credentials, the token
// is the secret. An unknown token is a 404, an expired one a 410, both as
// Atlas errors so `atlas backups snapshots download` prints something clear.
func (s *server) download() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		l, err := s.lifecycle()
		if err != nil {
			return err
		}
		a, err := l.Download(r.Context(), r.PathValue("token"))
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "application/gzip")
		h.Set("Content-Disposition", `attachment; filename="`+a.FileName+`"`)
		h.Set("Content-Length", strconv.Itoa(len(a.Content)))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(a.Content)
		return nil
	})
}

// snapshotDetail and restoreJobDetail are flexd's own views of a snapshot
// and a restore job: the Atlas resource plus why it failed, which Atlas's
// Flex resources do not carry.
type snapshotDetail struct {
	snapshotView
	FailureReason string `json:"failureReason,omitempty"`
}

type restoreJobDetail struct {
	restoreJobView
	FailureReason string `json:"failureReason,omitempty"`
}

func (s *server) getSnapshotDetail() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.Snapshot, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		return s.cfg.Backups.GetSnapshot(r.Context(), c, r.PathValue("snapshotId"))
	}, func(base string, sn *flexd.Snapshot) snapshotDetail {
		return snapshotDetail{viewSnapshot(base, sn), sn.FailureReason}
	})
}

func (s *server) getRestoreJobDetail() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.RestoreJob, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		return s.cfg.Backups.GetRestoreJob(r.Context(), c, r.PathValue("restoreJobId"))
	}, func(base string, j *flexd.RestoreJob) restoreJobDetail {
		return restoreJobDetail{viewRestoreJob(base, j), j.FailureReason}
	})
}
