package atlasapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flexd/flexd"
)

// wantDecodeError checks that decoding body as In fails with code and the
// given parameters.
func wantDecodeError[In any](t *testing.T, body, code string, params ...any) {
	t.Helper()
	_, err := decodeJSON[In]([]byte(body))
	if err == nil {
		t.Errorf("decode %s: no error, want %s %v", body, code, params)
		return
	}
	if err.Code != code || err.Status != 400 || len(err.Parameters) != len(params) {
		t.Errorf("decode %s: %v %v, want %s %v", body, err, err.Parameters, code, params)
		return
	}
	for i := range params {
		if err.Parameters[i] != params[i] {
			t.Errorf("decode %s: parameters %v, want %v", body, err.Parameters, params)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	type cc = flexClusterCreate
	wantDecodeError[cc](t, `{`, "MALFORMED_JSON")
	wantDecodeError[cc](t, `{"name":"a",}`, "MALFORMED_JSON")
	wantDecodeError[cc](t, `{"foo":1,`, "MALFORMED_JSON") // malformed wins over the unknown foo
	wantDecodeError[cc](t, `{} {}`, "MALFORMED_JSON")
	wantDecodeError[cc](t, `[]`, "INVALID_JSON")
	wantDecodeError[cc](t, `"name"`, "INVALID_JSON")
	wantDecodeError[cc](t, `null`, "INVALID_JSON")
	wantDecodeError[cc](t, `42`, "INVALID_JSON")

	wantDecodeError[cc](t, `{"name":5}`, "INVALID_JSON_ATTRIBUTE", "name")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":"AWS"}`, "INVALID_JSON_ATTRIBUTE", "providerSettings")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":{"regionName":["x"]}}`, "INVALID_JSON_ATTRIBUTE", "providerSettings.regionName")
	wantDecodeError[cc](t, `{"terminationProtectionEnabled":"true"}`, "INVALID_JSON_ATTRIBUTE", "terminationProtectionEnabled")
	wantDecodeError[cc](t, `{"tags":{}}`, "INVALID_JSON_ATTRIBUTE", "tags")
	wantDecodeError[cc](t, `{"tags":[null]}`, "INVALID_JSON_ATTRIBUTE", "tags[0]")
	wantDecodeError[cc](t, `{"tags":[{"key":"k","value":"v"},{"key":1}]}`, "INVALID_JSON_ATTRIBUTE", "tags[1].key")

	wantDecodeError[cc](t, `{"foo":1}`, "INVALID_ATTRIBUTE", "foo")
	wantDecodeError[cc](t, `{"Name":"a"}`, "INVALID_ATTRIBUTE", "Name") // Atlas matches names exactly
	wantDecodeError[cc](t, `{"name":"a","providerSettings":{"foo":1}}`, "INVALID_ATTRIBUTE", "providerSettings.foo")
	wantDecodeError[cc](t, `{"tags":[{"key":"k","value":"v","x":1}]}`, "INVALID_ATTRIBUTE", "tags[0].x")
	// Document order: the unknown attribute comes before the bad type.
	wantDecodeError[cc](t, `{"foo":1,"name":5}`, "INVALID_ATTRIBUTE", "foo")

	// Missing: the first in schema order, descending as it goes, leaf names.
	wantDecodeError[cc](t, ``, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[cc](t, " \n\t", "MISSING_ATTRIBUTE", "name")
	wantDecodeError[cc](t, `{}`, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[cc](t, `{"providerSettings":{}}`, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[cc](t, `{"name":null,"providerSettings":{}}`, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[cc](t, `{"name":"a"}`, "MISSING_ATTRIBUTE", "providerSettings")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":null}`, "MISSING_ATTRIBUTE", "providerSettings")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":{}}`, "MISSING_ATTRIBUTE", "backingProviderName")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":{"backingProviderName":"AWS"}}`, "MISSING_ATTRIBUTE", "regionName")
	wantDecodeError[cc](t, `{"name":"a","providerSettings":{"backingProviderName":"AWS","regionName":"X"},"tags":[{"key":"k"}]}`, "MISSING_ATTRIBUTE", "value")

	wantDecodeError[restoreJobCreate](t, `{}`, "MISSING_ATTRIBUTE", "snapshotId")
	wantDecodeError[restoreJobCreate](t, `{"snapshotId":"5f0c2a1b3c4d5e6f7a8b9c0d"}`, "MISSING_ATTRIBUTE", "targetDeploymentItemName")
	wantDecodeError[restoreJobCreate](t, `{"snapshotId":"nope","targetDeploymentItemName":"b"}`, "INVALID_ATTRIBUTE", "snapshotId")
	wantDecodeError[restoreJobCreate](t, `{"snapshotId":"5F0C2A1B3C4D5E6F7A8B9C0D","targetDeploymentItemName":"b"}`, "INVALID_ATTRIBUTE", "snapshotId")
	wantDecodeError[restoreJobCreate](t, `{"snapshotId":"5f0c2a1b3c4d5e6f7a8b9c0d","targetDeploymentItemName":"b","targetProjectId":"x"}`, "INVALID_ATTRIBUTE", "targetProjectId")
	wantDecodeError[downloadCreate](t, ``, "MISSING_ATTRIBUTE", "snapshotId")
	wantDecodeError[downloadCreate](t, `{"snapshotId":12}`, "INVALID_JSON_ATTRIBUTE", "snapshotId")
	wantDecodeError[groupCreate](t, `{"orgId":"5f0c2a1b3c4d5e6f7a8b9c0d"}`, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[groupCreate](t, `{"name":"p","orgId":"default"}`, "INVALID_ATTRIBUTE", "orgId")
	wantDecodeError[groupCreate](t, `{"name":"p","withDefaultAlertsSettings":"yes"}`, "INVALID_JSON_ATTRIBUTE", "withDefaultAlertsSettings")
	wantDecodeError[flexClusterUpdate](t, `{"name":"renamed"}`, "INVALID_ATTRIBUTE", "name")
	wantDecodeError[tenantUpgrade](t, `{}`, "MISSING_ATTRIBUTE", "name")
	wantDecodeError[tenantUpgrade](t, `{"name":"a","warpDrive":true}`, "INVALID_ATTRIBUTE", "warpDrive")
}

func TestDecodeAcceptsReadOnlyProperties(t *testing.T) {
	// What `atlas clusters create --tier FLEX` and a client echoing a whole
	// description send.
	c, err := decodeJSON[flexClusterCreate]([]byte(`{
		"id": "5f0c2a1b3c4d5e6f7a8b9c0d", "groupId": "5f0c2a1b3c4d5e6f7a8b9c0d",
		"name": "c1", "createDate": "2025-01-01T00:00:00Z", "stateName": "IDLE",
		"mongoDBVersion": "8.0.1", "clusterType": "REPLICASET", "versionReleaseSystem": "LTS",
		"backupSettings": {"enabled": true}, "connectionStrings": {"standardSrv": "x"},
		"links": [{"href": "https://x", "rel": "self"}],
		"providerSettings": {"backingProviderName": "AWS", "regionName": "US_EAST_1",
			"providerName": "FLEX", "diskSizeGB": 1e999},
		"tags": [{"key": "env", "value": "dev"}], "terminationProtectionEnabled": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "c1" || c.ProviderSettings.BackingProviderName != "AWS" || c.ProviderSettings.RegionName != "US_EAST_1" ||
		!c.TerminationProtectionEnabled || len(c.Tags) != 1 || c.Tags[0] != (tag{"env", "dev"}) {
		t.Errorf("decoded %+v", c)
	}

	// The Go SDK's project create.
	g, err := decodeJSON[groupCreate]([]byte(`{"name":"p","orgId":"5f0c2a1b3c4d5e6f7a8b9c0d","clusterCount":0,"created":"0001-01-01T00:00:00Z","withDefaultAlertsSettings":true}`))
	if err != nil || g.Name != "p" || g.OrgID != "5f0c2a1b3c4d5e6f7a8b9c0d" {
		t.Errorf("decoded %+v, %v", g, err)
	}

	// The CLI's restore request.
	j, err := decodeJSON[restoreJobCreate]([]byte(`{"snapshotId":"5f0c2a1b3c4d5e6f7a8b9c0d","targetDeploymentItemName":"b","instanceName":"a","deliveryType":"RESTORE"}`))
	if err != nil || j.TargetDeploymentItemName != "b" {
		t.Errorf("decoded %+v, %v", j, err)
	}
}

func TestDecodeNullIsAbsent(t *testing.T) {
	u, err := decodeJSON[flexClusterUpdate]([]byte(`{"tags":null,"terminationProtectionEnabled":null}`))
	if err != nil || u.Tags != nil || u.TerminationProtectionEnabled != nil {
		t.Fatalf("decoded %+v, %v", u, err)
	}
	u, err = decodeJSON[flexClusterUpdate]([]byte(`{"tags":[]}`))
	if err != nil || u.Tags == nil || len(*u.Tags) != 0 {
		t.Fatalf("decoded %+v, %v", u, err)
	}
	if got := tagsUpdate(u.Tags); got == nil || *got == nil {
		t.Errorf("an empty tags array must clear the tags, got %v", got)
	}
}

func TestDecodeMediaTypeAndSize(t *testing.T) {
	body := `{"snapshotId":"5f0c2a1b3c4d5e6f7a8b9c0d"}`
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8",
		"application/vnd.atlas.2024-11-13+json", "Application/VND.atlas.2025-03-12+json;charset=utf-8"} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		if _, err := decode[downloadCreate](httptest.NewRecorder(), r); err != nil {
			t.Errorf("Content-Type %q: %v", ct, err)
		}
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/vnd.atlas.2024-11-13+csv", "application/jsonx"} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		_, err := decode[downloadCreate](httptest.NewRecorder(), r)
		if e := flexd.AsError(err); e == nil || e.Status != http.StatusUnsupportedMediaType || e.Code != "UNEXPECTED_ERROR" {
			t.Errorf("Content-Type %q: %v, want 415", ct, err)
		}
	}
	big := `{"snapshotId":"` + strings.Repeat("a", maxBodySize) + `"}`
	r := httptest.NewRequest("POST", "/", strings.NewReader(big))
	_, err := decode[downloadCreate](httptest.NewRecorder(), r)
	if e := flexd.AsError(err); e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Code != "UNEXPECTED_ERROR" {
		t.Errorf("big body: %v, want 413", err)
	}
}
