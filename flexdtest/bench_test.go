package flexdtest_test

import (
	"testing"

	"github.com/flexd/flexd/flexdtest"
)

// BenchmarkNew is what a test pays for a server of its own: start one and
// stop it again (docs/PERFORMANCE.md). The first start of a process also
// migrates the store it copies; b.Loop's first round takes that.
func BenchmarkNew(b *testing.B) {
	benchmarkNew(b)
}

// BenchmarkNewWithoutDataPlane is BenchmarkNew with clusters that are
// records only. (No cluster is created in either: an endpoint opens with
// its cluster.)
func BenchmarkNewWithoutDataPlane(b *testing.B) {
	benchmarkNew(b, flexdtest.WithoutDataPlane())
}

// benchmarkNew also reports the process's CPU time per start, which a
// loaded machine inflates less than the wall-clock time.
func benchmarkNew(b *testing.B, opts ...flexdtest.Option) {
	cpu := processCPU()
	for b.Loop() {
		flexdtest.New(b, opts...).Close()
	}
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
