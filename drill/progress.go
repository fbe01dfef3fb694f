package drill

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flexd/flexd"
)

// newProgress shows progress on w: redrawn in place on a terminal, plain
// timestamped lines (one per step and status change) otherwise, so CI
// logs stay readable.
func newProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &terminal{w: w}
		}
	}
	return lines{w: w}
}

type lines struct{ w io.Writer }

func (l lines) Step(msg string) { fmt.Fprintf(l.w, "%s  %s\n", now(), msg) }
func (l lines) Status(s flexd.JobStatus, changed bool, elapsed time.Duration) {
	if changed {
		fmt.Fprintf(l.w, "%s  restore job %s after %s\n", now(), s, elapsed.Round(time.Millisecond))
	}
}
func (lines) Done() {}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// terminal redraws one status line with a spinner; each change is kept on
// its own line above it.
type terminal struct {
	w    io.Writer
	spin int
	live bool
}

var spinner = []string{"|", "/", "-", `\`}

func (t *terminal) Step(msg string) { t.clear(); fmt.Fprintf(t.w, "%s\n", msg) }
func (t *terminal) Status(s flexd.JobStatus, changed bool, elapsed time.Duration) {
	if changed {
		t.clear()
		fmt.Fprintf(t.w, "%s  restore job %s\n", now(), s)
	}
	if s.Done() {
		return
	}
	t.spin++
	fmt.Fprintf(t.w, "\r\033[K%s %s for %s", spinner[t.spin%len(spinner)], s, elapsed.Round(time.Second))
	t.live = true
}
func (t *terminal) Done() { t.clear() }

func (t *terminal) clear() {
	if t.live {
		fmt.Fprint(t.w, "\r\033[K")
		t.live = false
	}
}

type quiet struct{}

func (quiet) Step(string)                                 {}
func (quiet) Status(flexd.JobStatus, bool, time.Duration) {}
func (quiet) Done()                                       {}
