package flexdtest_test

import (
	"testing"

	"github.com/flexd/flexd/flexdtest"
)

// BenchmarkNew is the time to start a server and stop it again, the cost
// a test pays for a server of its own (docs/PERFORMANCE.md).
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		s, err := flexdtest.Start()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
