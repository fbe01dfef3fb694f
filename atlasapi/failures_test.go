package atlasapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
)

// stubs implements the services with canned answers; a method it does not
// define belongs to a nil interface and panics, which the server must
// survive.
type stubs struct {
	flexd.OrganizationService
	flexd.ProjectService
	flexd.FlexClusterService
	flexd.BackupService
	listOrgs func() ([]flexd.Organization, int, error)
}

const stubGroup = "6817000000000000000000aa"

func (s *stubs) ListOrganizations(context.Context, flexd.OrganizationFilter, flexd.Page) ([]flexd.Organization, int, error) {
	return s.listOrgs()
}

func (s *stubs) GetProject(_ context.Context, id string) (*flexd.Project, error) {
	if id != stubGroup {
		return nil, flexd.ErrNotFound // a store sentinel leaking through still reads as GROUP_NOT_FOUND
	}
	return &flexd.Project{ID: id, OrgID: missingID, Name: "p", Created: time.Unix(1746349200, 0)}, nil
}

func (s *stubs) GetFlexCluster(context.Context, *flexd.Project, string) (*flexd.FlexCluster, error) {
	return nil, nil // neither a value nor an error: a service bug
}

func (s *stubs) CreateDownload(_ context.Context, groupID, name, snapshotID string) (*flexd.RestoreJob, error) {
	now := time.Date(2025, 5, 4, 9, 42, 0, 0, time.UTC)
	return &flexd.RestoreJob{ID: missingID, ProjectID: groupID, InstanceName: name, SnapshotID: snapshotID,
		DeliveryType: flexd.DeliveryDownload, Status: flexd.StatusCompleted, DownloadToken: "tok",
		ExpirationDate: now.Add(4 * time.Hour), RestoreScheduledDate: now, RestoreFinishedDate: now, SnapshotFinishedDate: now}, nil
}

// authFunc is an Authenticator made of a function.
type authFunc func(*http.Request) (*flexd.Principal, error)

func (f authFunc) Authenticate(r *http.Request) (*flexd.Principal, error) { return f(r) }
func (f authFunc) Challenge(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Digest realm="MMS Public API"`)
}

func stubServer(t *testing.T, cfg atlasapi.Config) (*client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s := &stubs{listOrgs: func() ([]flexd.Organization, int, error) {
		return []flexd.Organization{{ID: missingID, Name: "o"}}, 1, nil
	}}
	if cfg.Orgs != nil {
		s = cfg.Orgs.(*stubs)
	}
	cfg.Orgs, cfg.Projects, cfg.Clusters, cfg.Backups = s, s, s, s
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv := httptest.NewServer(atlasapi.NewServer(cfg))
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL), logs
}

const unexpected500 = `{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	c, logs := stubServer(t, atlasapi.Config{Orgs: &stubs{listOrgs: func() ([]flexd.Organization, int, error) {
		return nil, 0, errors.New("dial tcp: password=hunter2 refused")
	}}})
	res := c.get("/api/atlas/v2/orgs")
	if res.status != 500 || string(res.body) != unexpected500 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	id := res.header.Get("X-Request-Id")
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"internal error","request_id":"`+id+`"`) ||
		!strings.Contains(logs.String(), "hunter2") {
		t.Errorf("internal error not logged with its request id %s:\n%s", id, logs)
	}
}

func TestPanicsAndBugsAre500s(t *testing.T) {
	c, logs := stubServer(t, atlasapi.Config{})
	// GetOrganization is not stubbed: the nil interface panics.
	res := c.get("/api/atlas/v2/orgs/" + missingID)
	if res.status != 500 || string(res.body) != unexpected500 {
		t.Fatalf("panic: %d %s", res.status, res.body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic serving request","request_id":"`+res.header.Get("X-Request-Id")+`"`) {
		t.Errorf("panic not logged:\n%s", logs)
	}
	// A service returning neither a value nor an error.
	if res := c.get("/api/atlas/v2/groups/" + stubGroup + "/flexClusters/c1"); res.status != 500 || string(res.body) != unexpected500 {
		t.Errorf("no result: %d %s", res.status, res.body)
	}
	// A store sentinel that reached the transport still names the project.
	c.fail(404, "GROUP_NOT_FOUND", "GET", "/api/atlas/v2/groups/"+missingID, "")
	// The server keeps serving.
	c.ok(200, "GET", "/api/atlas/v2/orgs", "")
}

func TestAuthenticatorFailures(t *testing.T) {
	c, _ := stubServer(t, atlasapi.Config{Authenticator: authFunc(func(r *http.Request) (*flexd.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "limited":
			return nil, flexd.RateLimited("/api/oauth/token", 50, 1)
		case "expired":
			return nil, flexd.UserUnauthorized() // a 401: answered with the challenge
		case "broken":
			return nil, errors.New("key store unreachable")
		}
		return nil, nil
	})})
	res := c.call("GET", "/api/atlas/v2/orgs", "", "Authorization: limited")
	if res.status != 429 || string(res.body) != `{"detail":"Resource /api/oauth/token is limited to 50 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["/api/oauth/token",50,1],"reason":"Too Many Requests"}` {
		t.Errorf("rate limited: %d %s", res.status, res.body)
	}
	res = c.call("GET", "/api/atlas/v2/orgs", "", "Authorization: expired")
	if res.status != 401 || res.header.Get("WWW-Authenticate") == "" || !strings.HasPrefix(string(res.body), "{\n  \"error\" : 401,") {
		t.Errorf("expired: %d %v %s", res.status, res.header, res.body)
	}
	if res := c.call("GET", "/api/atlas/v2/orgs", "", "Authorization: broken"); res.status != 500 || string(res.body) != unexpected500 {
		t.Errorf("broken: %d %s", res.status, res.body)
	}
}

func TestNotReady(t *testing.T) {
	c, logs := stubServer(t, atlasapi.Config{Ready: func(context.Context) error { return errors.New("database is locked") }})
	res := c.get("/readyz", "Authorization:")
	if res.status != 503 || string(res.body) != `{"detail":"Service is unavailable, please try again later.","error":503,"errorCode":"SERVICE_UNAVAILABLE","parameters":[],"reason":"Service Unavailable"}` {
		t.Errorf("%d %s", res.status, res.body)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("cause not logged:\n%s", logs)
	}
	if res := c.get("/healthz", "Authorization:"); res.status != 200 {
		t.Errorf("healthz: %d", res.status)
	}
}

func TestPublicURL(t *testing.T) {
	c, _ := stubServer(t, atlasapi.Config{PublicURL: "https://flexd.example.com/"})
	m := c.ok(200, "GET", "/api/atlas/v2/orgs?itemsPerPage=1", "")
	if got := links(t, m)["self"]; got != "https://flexd.example.com/api/atlas/v2/orgs?pageNum=1&itemsPerPage=1" {
		t.Errorf("list self %q", got)
	}
	if got := links(t, results(m)[0].(map[string]any))["self"]; got != "https://flexd.example.com/api/atlas/v2/orgs/"+missingID {
		t.Errorf("org self %q", got)
	}
	dl := c.ok(200, "POST", "/api/atlas/v2/groups/"+stubGroup+"/flexClusters/c1/backup/download", `{"snapshotId":"`+missingID+`"}`)
	if dl["snapshotUrl"] != "https://flexd.example.com/_flexd/downloads/tok" || dl["expirationDate"] != "2025-05-04T13:42:00Z" {
		t.Errorf("download %v", dl)
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := atlasapi.RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}
