package atlasapi

import (
	"slices"
	"testing"

	"github.com/flexd/flexd"
)

// The fuzz targets hold the parsers of untrusted input to their contract:
// never panic, and answer either a valid result or a 4xx *flexd.Error.

func want4xx(t *testing.T, err *flexd.Error, codes ...string) {
	t.Helper()
	if err.Status < 400 || err.Status > 499 || !slices.Contains(codes, err.Code) || err.Parameters == nil {
		t.Fatalf("error %v (status %d) is not one of the 4xx %v", err, err.Status, codes)
	}
}

func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		"", "pageNum=1&itemsPerPage=100&includeCount=true", "itemsPerPage=0", "itemsPerPage=501",
		"pageNum=99999999999999999999", "includeCount=TRUE", "pretty", "envelope=&pretty=",
		"pageNum=%zz", "%zz=1", "a=1&a=2&pageNum=2&pageNum=2", "itemsPerPage=+1", "pageNum=1e3",
		"name=%E2%9C%93&pretty=false", ";;&&==", "itemsPerPage=٣",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := parseQuery(raw)
		p, err := pageParams(q)
		if err != nil {
			want4xx(t, err, "INVALID_QUERY_PARAMETER")
		} else if p.Num < 1 || p.Num > maxPageNum || p.ItemsPerPage < 1 || p.ItemsPerPage > maxItemsPerPage || p.Offset() < 0 {
			t.Fatalf("pageParams(%q) = %+v", raw, p)
		}
		if _, _, err := formatParams(q); err != nil {
			want4xx(t, err, "INVALID_QUERY_PARAMETER")
		}
		if _, err := stringParam(q, "name"); err != nil {
			want4xx(t, err, "INVALID_QUERY_PARAMETER")
		}
	})
}

func FuzzAccept(f *testing.F) {
	for _, seed := range []string{
		"application/vnd.atlas.2024-11-13+json", "application/vnd.atlas.2025-03-12+json;charset=utf-8",
		"application/json, application/vnd.atlas.2023-01-01+json;q=0.5", "*/*", "",
		"application/vnd.atlas.+json", "application/vnd.atlas.2024-11-13+csv", ";;,,",
		"application/vnd.atlas.9999-99-99+json", "APPLICATION/VND.ATLAS.2024-08-05+JSON",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		for _, versions := range [][]string{flexFamily, orgsAndProjects, clusterRead} {
			v, err := negotiate([]string{accept}, versions)
			if err != nil {
				want4xx(t, err, "INVALID_VERSION_DATE")
				continue
			}
			if !slices.Contains(versions, v) {
				t.Fatalf("negotiate(%q) = %q, not a version of the route", accept, v)
			}
			if date, ok := acceptedDate([]string{accept}); !ok || !slices.Contains(releases, date) || v > date {
				t.Fatalf("negotiate(%q) = %q for date %q", accept, v, date)
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{`, `{"name":"c","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`,
		`{"name":1}`, `{"providerSettings":{"x":[1,{"y":null}]}}`, `{"tags":[{"key":"k","value":"v"},null]}`,
		`{"snapshotId":"5f0c2a1b3c4d5e6f7a8b9c0d","targetDeploymentItemName":"t","instanceName":{"a":[]}}`,
		`{"name":"p","orgId":"x","clusterCount":1e999,"created":null}`, `{"links":[[[[]]]]}`,
		"{\"name\":\"\xff\"}", `{"name":"a","name":"b"}`, `{"terminationProtectionEnabled":true,"tags":null}`,
	} {
		f.Add([]byte(seed))
	}
	codes := []string{"MALFORMED_JSON", "INVALID_JSON", "INVALID_JSON_ATTRIBUTE", "INVALID_ATTRIBUTE", "MISSING_ATTRIBUTE"}
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, err := decodeJSON[flexClusterCreate](body); err != nil {
			want4xx(t, err, codes...)
		} else if c.ProviderSettings == nil {
			t.Fatalf("%q decoded without the required providerSettings", body)
		}
		if j, err := decodeJSON[restoreJobCreate](body); err != nil {
			want4xx(t, err, codes...)
		} else if !flexd.ValidID(j.SnapshotID) || (j.TargetProjectID != "" && !flexd.ValidID(j.TargetProjectID)) {
			t.Fatalf("%q decoded with malformed ids %+v", body, j)
		}
		if g, err := decodeJSON[groupCreate](body); err != nil {
			want4xx(t, err, codes...)
		} else if g.OrgID != "" && !flexd.ValidID(g.OrgID) {
			t.Fatalf("%q decoded with a malformed orgId", body)
		}
		for _, decode := range []func([]byte) *flexd.Error{
			func(b []byte) *flexd.Error { _, err := decodeJSON[flexClusterUpdate](b); return err },
			func(b []byte) *flexd.Error { _, err := decodeJSON[groupUpdate](b); return err },
			func(b []byte) *flexd.Error { _, err := decodeJSON[downloadCreate](b); return err },
			func(b []byte) *flexd.Error { _, err := decodeJSON[tenantUpgrade](b); return err },
		} {
			if err := decode(body); err != nil {
				want4xx(t, err, codes...)
			}
		}
	})
}
