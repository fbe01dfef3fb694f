package drill

import (
	"fmt"
	"strings"
	"time"

	"github.com/flexd/flexd"
)

// Result is a drill's report and its verdict. Its JSON is the report flexd
// serves for the job, plus the thresholds and whether they were met.
type Result struct {
	flexd.RestoreReport
	MaxRTOSeconds *float64 `json:"maxRtoSeconds,omitempty"`
	MaxRPOSeconds *float64 `json:"maxRpoSeconds,omitempty"`
	// ObservedRTOSeconds is the time from sending the restore request to
	// seeing COMPLETED, on this machine's clock: finer than RTOSeconds,
	// which comes from the API's dates in whole seconds (as Atlas gives
	// them), but late by up to one --poll-interval. Thresholds use the
	// API's RTO, which is also right on a flexd with a manual clock.
	ObservedRTOSeconds *float64 `json:"observedRtoSeconds,omitempty"`
	// Data is the data check's outcome; Collections (the embedded
	// report's) holds what it compared.
	Data   DataCheck `json:"dataCheck"`
	Passed bool      `json:"passed"`
	// Failures says why the drill did not pass, one reason a line.
	Failures []string `json:"failures"`
	// Error is set when the drill could not run to the end (no snapshot,
	// an API error, --timeout).
	Error string `json:"error,omitempty"`
}

func (r *Result) setThresholds(p Plan) {
	if p.MaxRTO > 0 {
		s := p.MaxRTO.Seconds()
		r.MaxRTOSeconds = &s
	}
	if p.MaxRPO > 0 {
		s := p.MaxRPO.Seconds()
		r.MaxRPOSeconds = &s
	}
	r.Failures = []string{}
}

// judge decides the verdict of a drill whose job ended.
func (r *Result) judge() {
	if r.Status != flexd.StatusCompleted {
		msg := fmt.Sprintf("restore job %s ended %s", r.RestoreJobID, r.Status)
		if r.FailureReason != "" {
			msg += ": " + r.FailureReason
		}
		r.Failures = append(r.Failures, msg)
	}
	if r.MaxRTOSeconds != nil {
		if rto, ok := r.RTO(); ok && rto > r.maxRTO() {
			r.Failures = append(r.Failures, fmt.Sprintf("RTO %s exceeds --max-rto %s", round(rto), r.maxRTO()))
		}
	}
	if r.MaxRPOSeconds != nil {
		if rpo, ok := r.RPO(); !ok {
			r.Failures = append(r.Failures, "RPO unknown: the API gave no snapshot or request time")
		} else if rpo > r.maxRPO() {
			r.Failures = append(r.Failures, fmt.Sprintf("RPO %s exceeds --max-rpo %s", round(rpo), r.maxRPO()))
		}
	}
	r.Passed = len(r.Failures) == 0
}

func (r *Result) maxRTO() time.Duration { d, _ := secondsDuration(r.MaxRTOSeconds); return d }
func (r *Result) maxRPO() time.Duration { d, _ := secondsDuration(r.MaxRPOSeconds); return d }

func secondsDuration(s *float64) (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	return time.Duration(*s * float64(time.Second)), true
}

// round shows a duration to the millisecond.
func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func joinFailures(f []string) string { return strings.Join(f, "; ") }
