package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// getRestoreReport answers the drill report of any restore job, so a
// restore started with `atlas backups restores start` can be measured like
// one started by `flexd drill`. It is built from what the service records
// of the job, and answered as plain JSON (the route is flexd's, not Atlas's).
func (s *server) getRestoreReport() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.RestoreJob, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		return s.cfg.Backups.GetRestoreJob(r.Context(), c, r.PathValue("restoreJobId"))
	}, viewRestoreReport)
}

func viewRestoreReport(_ string, j *flexd.RestoreJob) *flexd.RestoreReport { return flexd.ReportOf(j) }
