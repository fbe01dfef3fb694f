package service

import (
	"regexp"
	"unicode/utf8"

	"github.com/flexd/flexd"
)

// Patterns from the Atlas spec.
var (
	clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	groupNamePattern   = regexp.MustCompile(`^[\p{L}\p{N}\-_.(),:&@+']{1,64}$`)
)

// maxClusterNameLen is Atlas's limit on cluster names.
const maxClusterNameLen = 64

// validateClusterName checks a new cluster's name the way Atlas does.
func validateClusterName(name string) error {
	if !clusterNamePattern.MatchString(name) {
		return flexd.ClusterNameInvalid(name)
	}
	if len(name) > maxClusterNameLen {
		return flexd.ClusterNameTooLong(name, maxClusterNameLen)
	}
	return nil
}

// ValidClusterName reports whether name could name a cluster; a path with any
// other name cannot address one.
func ValidClusterName(name string) bool {
	return len(name) <= maxClusterNameLen && clusterNamePattern.MatchString(name)
}

// validateTags applies ResourceTag's limits: key and value of 1 to 255
// characters.
func validateTags(tags []flexd.Tag) error {
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 255 {
			return flexd.InvalidAttribute("tags.key")
		}
		if n := utf8.RuneCountInString(t.Value); n < 1 || n > 255 {
			return flexd.InvalidAttribute("tags.value")
		}
	}
	return nil
}

// cloneTags returns a non-nil copy, so that responses always carry an array.
func cloneTags(tags []flexd.Tag) []flexd.Tag {
	out := make([]flexd.Tag, len(tags))
	copy(out, tags)
	return out
}
