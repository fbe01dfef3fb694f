package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// restoreJobView is the spec's FlexBackupRestoreJob20241113, for RESTORE and
// DOWNLOAD jobs alike. As in real Atlas it has no links member of its own
// and always an expirationDate.
type restoreJobView struct {
	DeliveryType             flexd.DeliveryType `json:"deliveryType"`
	ExpirationDate           atlasTime          `json:"expirationDate,omitzero"`
	ID                       string             `json:"id"`
	InstanceName             string             `json:"instanceName,omitempty"`
	ProjectID                string             `json:"projectId"`
	RestoreFinishedDate      atlasTime          `json:"restoreFinishedDate,omitzero"`
	RestoreScheduledDate     atlasTime          `json:"restoreScheduledDate,omitzero"`
	SnapshotFinishedDate     atlasTime          `json:"snapshotFinishedDate,omitzero"`
	SnapshotID               string             `json:"snapshotId"`
	SnapshotURL              string             `json:"snapshotUrl,omitempty"`
	Status                   flexd.JobStatus    `json:"status"`
	TargetDeploymentItemName string             `json:"targetDeploymentItemName,omitempty"`
	TargetProjectID          string             `json:"targetProjectId,omitempty"`
}

// downloadPath is where a DOWNLOAD job's snapshot is fetched from, without
// credentials: the token is the secret.
const downloadPath = "/_flexd/downloads/"

func viewRestoreJob(base string, j *flexd.RestoreJob) restoreJobView {
	v := restoreJobView{
		DeliveryType:             j.DeliveryType,
		ExpirationDate:           atlasTime(j.Expires()),
		ID:                       j.ID,
		InstanceName:             j.InstanceName,
		ProjectID:                j.ProjectID,
		RestoreFinishedDate:      atlasTime(j.RestoreFinishedDate),
		RestoreScheduledDate:     atlasTime(j.RestoreScheduledDate),
		SnapshotFinishedDate:     atlasTime(j.SnapshotFinishedDate),
		SnapshotID:               j.SnapshotID,
		Status:                   j.Status,
		TargetDeploymentItemName: j.TargetDeploymentItemName,
		TargetProjectID:          j.TargetProjectID,
	}
	if j.DeliveryType == flexd.DeliveryDownload && j.DownloadToken != "" {
		v.SnapshotURL = base + downloadPath + j.DownloadToken
	}
	return v
}

// restoreJobCreate is FlexBackupRestoreJobCreate20241113. The target
// cluster's existence and the caller's rights in another target project are
// the service's to check.
type restoreJobCreate struct {
	SnapshotID               string `json:"snapshotId" atlas:"required,id"`
	TargetDeploymentItemName string `json:"targetDeploymentItemName" atlas:"required"`
	TargetProjectID          string `json:"targetProjectId" atlas:"id"`
}

// ignored: the job's read-only properties (the Atlas CLI sends
// instanceName).
func (restoreJobCreate) ignored() []string {
	return []string{
		"deliveryType", "expirationDate", "id", "instanceName", "links", "projectId",
		"restoreFinishedDate", "restoreScheduledDate", "snapshotFinishedDate", "snapshotUrl", "status",
	}
}

// listRestoreJobs lists the restore and download jobs whose source is the
// cluster, newest first (the store's order).
func (s *server) listRestoreJobs() http.Handler {
	return listInCluster(s, func(r *http.Request, c *flexd.FlexCluster, p flexd.Page) ([]flexd.RestoreJob, int, error) {
		return s.cfg.Backups.ListRestoreJobs(r.Context(), c, p)
	}, viewRestoreJob)
}

func (s *server) getRestoreJob() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.RestoreJob, error) {
		c, err := s.clusterOf(r)
		if err != nil {
			return nil, err
		}
		return s.cfg.Backups.GetRestoreJob(r.Context(), c, r.PathValue("restoreJobId"))
	}, viewRestoreJob)
}

// createRestoreJob answers 200, not 201: the spec says so.
func (s *server) createRestoreJob() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *restoreJobCreate) (*flexd.RestoreJob, error) {
		return s.cfg.Backups.CreateRestoreJob(r.Context(), r.PathValue("groupId"), r.PathValue("name"), flexd.RestoreJobCreate{
			SnapshotID:               in.SnapshotID,
			TargetDeploymentItemName: in.TargetDeploymentItemName,
			TargetProjectID:          in.TargetProjectID,
		})
	}, viewRestoreJob)
}
