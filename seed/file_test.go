package seed_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/flexd/flexd/seed"
)

func TestParseExample(t *testing.T) {
	f, err := seed.Load("testdata/ci.yaml")
	if err != nil {
		t.Fatal(err)
	}
	org := f.Organizations[0]
	if org.ID != "65a1b2c3d4e5f60718293a4b" || len(org.APIKeys) != 2 || len(org.ServiceAccounts) != 1 || len(org.Projects) != 1 {
		t.Fatalf("organization = %+v", org)
	}
	c := org.Projects[0].Clusters[0]
	if c.BackingProviderName != "AWS" || c.RegionName != "US_EAST_1" || len(c.Snapshots) != 2 {
		t.Fatalf("cluster = %+v", c)
	}
	// startTime and scheduledTime default to the time before them.
	s := c.Snapshots[1]
	if !s.StartTime.Equal(s.FinishTime) || !s.ScheduledTime.Equal(s.FinishTime) {
		t.Errorf("defaults: %+v", s)
	}
	if sa := org.ServiceAccounts[0]; sa.Description != "ci-bot" || sa.Projects[0].Project != "app" {
		t.Errorf("service account = %+v", sa)
	}
}

// TestParseFaultsNameFileLineAndField checks that each fault says where
// it is: the file, the line and the field.
func TestParseFaultsNameFileLineAndField(t *testing.T) {
	const head = "organizations:\n  - name: ci\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top-level field", "orgs: []\n", "s.yaml:1: orgs: unknown field"},
		{"unknown field", head + "    colour: blue\n", "s.yaml:3: organizations[0].colour: unknown field"},
		{"missing name", "organizations:\n  - id: 65a1b2c3d4e5f60718293a4b\n", "s.yaml:2: organizations[0].name: is required"},
		{"bad id", head + "    id: nope\n", `s.yaml:3: organizations[0].id: must be 24 lowercase hex digits, not "nope"`},
		{"syntax", "organizations: [\n", "s.yaml:"},
		{"not a list", "organizations: {}\n", "s.yaml:1: organizations: must be a list"},
		{"public key shape", head + "    apiKeys:\n      - publicKey: ABC\n", "s.yaml:4: organizations[0].apiKeys[0].publicKey: must be 8 lowercase letters"},
		{"private key missing", head + "    apiKeys:\n      - publicKey: abcdefgh\n        description: d\n        roles: [ORG_OWNER]\n",
			"s.yaml:4: organizations[0].apiKeys[0].privateKey: is required"},
		{"org role", head + "    apiKeys:\n      - publicKey: abcdefgh\n        privateKey: p\n        description: d\n        roles: [ORG_OWNER, GROUP_OWNER]\n",
			`s.yaml:7: organizations[0].apiKeys[0].roles[1]: "GROUP_OWNER" is not an organization role`},
		{"grant of an unknown project", head + "    apiKeys:\n      - publicKey: abcdefgh\n        privateKey: p\n        description: d\n        roles: [ORG_MEMBER]\n        projects:\n          nope: [GROUP_OWNER]\n",
			`s.yaml:9: organizations[0].apiKeys[0].projects.nope: the organization has no project "nope"`},
		{"project role", head + "    projects:\n      - name: app\n    apiKeys:\n      - publicKey: abcdefgh\n        privateKey: p\n        description: d\n        roles: [ORG_MEMBER]\n        projects:\n          app: [ORG_OWNER]\n",
			`s.yaml:11: organizations[0].apiKeys[0].projects.app: "ORG_OWNER" is not a project role`},
		{"client id", head + "    serviceAccounts:\n      - clientId: mdb_sa_id_x\n", "s.yaml:4: organizations[0].serviceAccounts[0].clientId: must be mdb_sa_id_"},
		{"duplicate key", head + "    apiKeys:\n      - {publicKey: abcdefgh, privateKey: p, description: d, roles: [ORG_OWNER]}\n      - {publicKey: abcdefgh, privateKey: p, description: d, roles: [ORG_OWNER]}\n",
			"s.yaml:5: organizations[0].apiKeys[1].publicKey: API key abcdefgh is given twice"},
		{"unquoted number as string", head + "    projects:\n      - name: 123\n", "s.yaml:4: organizations[0].projects[0].name: must be a string"},
		{"cluster without provider", head + "    projects:\n      - name: app\n        clusters:\n          - name: c\n",
			"s.yaml:6: organizations[0].projects[0].clusters[0].providerSettings: is required"},
		{"bad time", head + "    projects:\n      - name: app\n        clusters:\n          - name: c\n            providerSettings: {backingProviderName: AWS, regionName: US_EAST_1}\n            snapshots:\n              - finishTime: yesterday\n",
			`s.yaml:9: organizations[0].projects[0].clusters[0].snapshots[0].finishTime: must be an RFC 3339 time`},
		{"snapshot before its cluster", head + "    projects:\n      - name: app\n        clusters:\n          - name: c\n            providerSettings: {backingProviderName: AWS, regionName: US_EAST_1}\n            createDate: 2026-01-02T00:00:00Z\n            snapshots:\n              - finishTime: 2026-01-01T00:00:00Z\n",
			"s.yaml:10: organizations[0].projects[0].clusters[0].snapshots[0].scheduledTime: 2026-01-01T00:00:00Z is before the cluster's createDate"},
		{"snapshot ends before it starts", head + "    projects:\n      - name: app\n        clusters:\n          - name: c\n            providerSettings: {backingProviderName: AWS, regionName: US_EAST_1}\n            snapshots:\n              - startTime: 2026-01-02T00:00:00Z\n                finishTime: 2026-01-01T00:00:00Z\n",
			"s.yaml:10: organizations[0].projects[0].clusters[0].snapshots[0].finishTime: is before startTime"},
		{"alias", "x: &a 1\norganizations: []\n", "s.yaml:1: anchors and aliases are not supported"},
		{"empty", "", "s.yaml:1: the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := seed.Parse("s.yaml", []byte(tc.yaml))
			var se *seed.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *seed.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestReadmeExampleParses keeps the README's example seed file true.
func TestReadmeExampleParses(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Seeding")
	j := strings.Index(s[max(i, 0):], "```yaml\n")
	if i < 0 || j < 0 {
		t.Fatal("README has no Seeding section with a yaml example")
	}
	body := s[i+j+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	f, err := seed.Parse("README.md", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Organizations) != 1 || len(f.Organizations[0].Projects[0].Clusters) != 2 {
		t.Errorf("the example parsed to %+v", f.Organizations)
	}
}
