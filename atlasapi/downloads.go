package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// downloadCreate is FlexBackupSnapshotDownloadCreate20241113.
type downloadCreate struct {
	SnapshotID string `json:"snapshotId" atlas:"required,id"`
}

func (downloadCreate) ignored() []string { return []string{"links"} }

// createDownload prepares a snapshot download: a DOWNLOAD restore job whose
// snapshotUrl works at once, without credentials, until expirationDate.
// 200, not 201: the spec says so.
func (s *server) createDownload() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *downloadCreate) (*flexd.RestoreJob, error) {
		return s.cfg.Backups.CreateDownload(r.Context(), r.PathValue("groupId"), r.PathValue("name"), in.SnapshotID)
	}, viewRestoreJob)
}
