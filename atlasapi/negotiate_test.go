package atlasapi

import (
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name     string
		accept   []string
		versions []string
		want     string // "" means 406
	}{
		{"sdk", []string{"application/vnd.atlas.2024-11-13+json"}, flexFamily, "2024-11-13"},
		{"docs date serves the older resource version", []string{"application/vnd.atlas.2025-03-12+json"}, flexFamily, "2024-11-13"},
		{"charset parameter", []string{"application/vnd.atlas.2024-11-13+json;charset=utf-8"}, flexFamily, "2024-11-13"},
		{"spaces and q", []string{" application/vnd.atlas.2025-02-19+json ; q=0.9"}, flexFamily, "2024-11-13"},
		{"case-insensitive", []string{"Application/VND.Atlas.2024-11-13+JSON"}, flexFamily, "2024-11-13"},
		{"first versioned json range wins", []string{"application/json, application/vnd.atlas.2024-11-13+json"}, flexFamily, "2024-11-13"},
		{"csv range skipped", []string{"application/vnd.atlas.2024-11-13+csv, application/vnd.atlas.2025-03-12+json"}, flexFamily, "2024-11-13"},
		{"several header lines", []string{"text/plain", "application/vnd.atlas.2024-11-13+json"}, flexFamily, "2024-11-13"},
		{"first versioned range has a bad date", []string{"application/vnd.atlas.2025-01-01+json, application/vnd.atlas.2024-11-13+json"}, flexFamily, ""},
		{"before the route existed", []string{"application/vnd.atlas.2023-01-01+json"}, flexFamily, ""},
		{"not a release date", []string{"application/vnd.atlas.2025-01-01+json"}, flexFamily, ""},
		{"future date", []string{"application/vnd.atlas.2099-01-01+json"}, flexFamily, ""},
		{"malformed date", []string{"application/vnd.atlas.2024-1-13+json"}, flexFamily, ""},
		{"plain json", []string{"application/json"}, flexFamily, ""},
		{"wildcard", []string{"*/*"}, flexFamily, ""},
		{"missing", nil, flexFamily, ""},
		{"empty", []string{""}, flexFamily, ""},
		{"csv only", []string{"application/vnd.atlas.2024-11-13+csv"}, flexFamily, ""},
		{"projects at the first release", []string{"application/vnd.atlas.2023-01-01+json"}, orgsAndProjects, "2023-01-01"},
		{"projects at a newer release", []string{"application/vnd.atlas.2025-03-12+json"}, orgsAndProjects, "2023-01-01"},
		{"cluster read deprecated version", []string{"application/vnd.atlas.2023-02-01+json"}, clusterRead, "2023-02-01"},
		{"cluster read between versions", []string{"application/vnd.atlas.2024-05-30+json"}, clusterRead, "2023-02-01"},
		{"cluster read current", []string{"application/vnd.atlas.2024-11-13+json"}, clusterRead, "2024-08-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := negotiate(tt.accept, tt.versions)
			if tt.want == "" {
				if err == nil || err.Code != "INVALID_VERSION_DATE" || err.Status != 406 {
					t.Fatalf("negotiate(%q) = %q, %v; want INVALID_VERSION_DATE", tt.accept, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("negotiate(%q) = %q, %v; want %q", tt.accept, got, err, tt.want)
			}
		})
	}
}

func TestMediaType(t *testing.T) {
	if got := mediaType("2024-11-13"); got != "application/vnd.atlas.2024-11-13+json;charset=utf-8" {
		t.Errorf("mediaType = %q", got)
	}
	if got := mediaType(""); got != "application/json" {
		t.Errorf("mediaType(\"\") = %q", got)
	}
}
