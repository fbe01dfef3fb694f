package atlasapi

import (
	"slices"
	"strings"

	"github.com/flexd/flexd"
)

// releases are the published Atlas Admin API v2 release dates. A request
// must name one of them; ISO dates sort as strings, which pickVersion uses.
var releases = []string{
	"2023-01-01", "2023-02-01", "2023-10-01", "2023-11-15", "2024-05-30",
	"2024-08-05", "2024-10-23", "2024-11-13", "2025-02-19", "2025-03-12",
}

// Resource versions the routes serve, oldest first.
var (
	// orgsAndProjects: organizations and projects have one version.
	orgsAndProjects = []string{"2023-01-01"}
	// flexFamily: every Flex operation has one version.
	flexFamily = []string{"2024-11-13"}
	// The dedicated-cluster API's operations, each at every version Atlas
	// has published for it: flexd never answers them with a cluster, so
	// what the versions differ in never shows, and older clients (the
	// Atlas CLI's delete sends 2023-02-01) keep working. The spec lists
	// only the newest: the list and the read at 2024-08-05, create and
	// update at 2024-10-23, delete at 2023-02-01.
	clusterList   = []string{"2023-01-01", "2023-02-01", "2024-08-05"}
	clusterRead   = []string{"2023-01-01", "2023-02-01", "2024-08-05"}
	clusterWrite  = []string{"2023-01-01", "2023-02-01", "2024-08-05", "2024-10-23"}
	clusterDelete = []string{"2023-01-01", "2023-02-01"}
	// unversioned routes (flexd's own, health checks) take any Accept and
	// answer application/json.
	unversioned []string
)

const (
	vndPrefix = "application/vnd.atlas."
	vndSuffix = "+json"
)

// negotiate picks the resource version to serve from the Accept header
// values: the first versioned Atlas JSON media range names a release date,
// and the route serves its newest version dated on or before it. Media
// range parameters (charset, q) are ignored: Atlas clients send exactly one
// versioned type, and a q-value cannot make an unknown date acceptable.
// Anything else is INVALID_VERSION_DATE.
func negotiate(accept []string, versions []string) (string, *flexd.Error) {
	date, ok := acceptedDate(accept)
	if !ok || !slices.Contains(releases, date) {
		return "", flexd.InvalidVersionDate()
	}
	v, ok := pickVersion(versions, date)
	if !ok {
		return "", flexd.InvalidVersionDate()
	}
	return v, nil
}

// acceptedDate returns the date of the first application/vnd.atlas.<date>+json
// media range among the Accept header values.
func acceptedDate(accept []string) (string, bool) {
	for _, value := range accept {
		for mediaRange := range strings.SplitSeq(value, ",") {
			mt, _, _ := strings.Cut(mediaRange, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if date, ok := versionOf(mt); ok {
				return date, true
			}
		}
	}
	return "", false
}

// versionOf returns the date of a versioned Atlas JSON media type.
func versionOf(mediaType string) (string, bool) {
	rest, ok := strings.CutPrefix(mediaType, vndPrefix)
	if !ok {
		return "", false
	}
	date, ok := strings.CutSuffix(rest, vndSuffix)
	return date, ok && isDate(date)
}

// isDate reports whether s has the shape YYYY-MM-DD.
func isDate(s string) bool {
	if len(s) != len("2006-01-02") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pickVersion returns the newest of versions (oldest first) dated on or
// before date.
func pickVersion(versions []string, date string) (string, bool) {
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i] <= date {
			return versions[i], true
		}
	}
	return "", false
}

// mediaType is the Content-Type of a successful response in version v.
func mediaType(v string) string {
	if v == "" {
		return "application/json"
	}
	return vndPrefix + v + vndSuffix + ";charset=utf-8"
}
