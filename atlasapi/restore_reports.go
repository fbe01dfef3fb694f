package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// getRestoreReport answers the drill report of any restore job, so a
// restore started with `atlas backups restores start` can be measured like
// one started by `flexd drill`. It is built from what the service records
// of the job, and answered as plain JSON (the route is flexd's, not Atlas's).
// For a completed restore on the data plane it also compares the
// snapshot with the target's data as it is now (Collections); when that
// cannot be read, Collections is left out, not made up.
func (s *server) getRestoreReport() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.RestoreReport, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		j, err := s.cfg.Backups.GetRestoreJob(r.Context(), c, r.PathValue("restoreJobId"))
		if err != nil {
			return nil, err
		}
		rep := flexd.ReportOf(j)
		if rc, ok := s.cfg.Lifecycle.(flexd.RestoreComparer); ok && j.DeliveryType == flexd.DeliveryRestore && j.Status == flexd.StatusCompleted {
			colls, err := rc.CompareRestore(r.Context(), j)
			if err != nil {
				s.log.WarnContext(r.Context(), "restore report: the data could not be compared", "restoreJob", j.ID, "err", err)
			}
			rep.Collections = colls
		}
		return rep, nil
	}, func(_ string, rep *flexd.RestoreReport) *flexd.RestoreReport { return rep })
}
