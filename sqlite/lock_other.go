//go:build !unix

package sqlite

import (
	"errors"
	"fmt"
)

// Lock is not available here: without it a process cannot know it is the
// only writer, so callers must not cache reads.
func Lock(path string) (release func() error, err error) {
	return nil, fmt.Errorf("sqlite: data directory lock: %w", errors.ErrUnsupported)
}
