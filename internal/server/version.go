package server

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Release builds and the container image stamp what Go cannot know (the
// build date) and what it cannot see without the .git directory (a
// revision, a tag), e.g.
//
//	go build -ldflags "-X github.com/flexd/flexd/internal/server.version=v1.2.0 -X github.com/flexd/flexd/internal/server.revision=$(git rev-parse HEAD) -X github.com/flexd/flexd/internal/server.buildDate=$(date -u +%FT%TZ)"
//
// Otherwise they come from runtime/debug.ReadBuildInfo: `go install
// …/cmd/flexd@v1.2.0` records the module version, a `go build` in a git
// checkout a pseudo-version, the revision and its commit time.
var revision, buildDate string

// about is what `flexd version` prints.
type about struct {
	version    string // empty: not known
	revision   string
	modified   bool
	commitTime string
	buildDate  string
	goVersion  string
}

func readAbout() about {
	bi, _ := debug.ReadBuildInfo()
	return aboutFrom(bi, version, revision, buildDate)
}

// aboutFrom prefers what the build stamped over what Go recorded.
func aboutFrom(bi *debug.BuildInfo, version, revision, buildDate string) about {
	a := about{version: version, revision: revision, buildDate: buildDate, goVersion: runtime.Version()}
	if bi == nil {
		return a
	}
	if v := bi.Main.Version; a.version == "" && v != "" && v != "(devel)" {
		a.version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			a.revision = cmp.Or(a.revision, s.Value)
		case "vcs.time":
			a.commitTime = s.Value
		case "vcs.modified":
			a.modified = s.Value == "true"
		}
	}
	return a
}

// buildVersion is the version alone, for logs: "(devel)" only for a binary
// built without any version information (go run, go test, -buildvcs=false).
func buildVersion() string { return cmp.Or(readAbout().version, "(devel)") }

func printVersion(w io.Writer) { readAbout().print(w) }

func (a about) print(w io.Writer) {
	fmt.Fprintln(w, "flexd", cmp.Or(a.version, "(devel)"))
	rev := cmp.Or(a.revision, "unknown")
	if a.modified {
		rev += " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "  revision  %s\n", rev)
	if a.commitTime != "" {
		fmt.Fprintf(w, "  committed %s\n", a.commitTime)
	}
	fmt.Fprintf(w, "  built     %s\n", cmp.Or(a.buildDate, "unknown"))
	fmt.Fprintf(w, "  go        %s %s/%s\n", a.goVersion, runtime.GOOS, runtime.GOARCH)
}
