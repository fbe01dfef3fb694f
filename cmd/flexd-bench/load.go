package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// call is one logical operation of a scenario on a connection: one request,
// or the two of a Digest handshake, or a create-and-wait. It returns an
// error for anything but the expected answer, so a benchmark of error pages
// cannot pass for a fast server.
type call func(c *conn) error

// stats is the outcome of one closed-loop run.
type stats struct {
	Calls    int           `json:"calls"`
	Errors   int           `json:"errors"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	PerSec   float64       `json:"per_sec"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	FirstErr string        `json:"first_error,omitempty"`
}

// drive runs a closed loop: conns workers, each on its own keep-alive
// connection, issue the next call as soon as the previous one answered,
// for d after a short warm-up. newCall gives each worker its call, so
// workers can differ (their own target cluster, say).
func drive(ctx context.Context, addr string, conns int, warmup, d time.Duration, newCall func(worker int) call) (stats, error) {
	type result struct {
		lat  []time.Duration
		errs int
		err  error
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	var start time.Time
	measuring := make(chan struct{})
	stop := make(chan struct{})
	for w := range conns {
		c, err := dial(addr)
		if err != nil {
			return stats{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			f := newCall(w)
			res := &results[w]
			res.lat = make([]time.Duration, 0, 1<<14)
			timed := false
			for {
				select {
				case <-stop:
					return
				case <-measuring:
					timed = true
				default:
				}
				t0 := time.Now()
				err := f(c)
				el := time.Since(t0)
				if !timed {
					continue
				}
				if err != nil {
					res.errs++
					if res.err == nil {
						res.err = err
					}
					continue
				}
				res.lat = append(res.lat, el)
			}
		}()
	}
	sleep(ctx, warmup)
	start = time.Now()
	close(measuring)
	sleep(ctx, d)
	close(stop)
	elapsed := time.Since(start)
	wg.Wait()

	var all []time.Duration
	var st stats
	for _, r := range results {
		all = append(all, r.lat...)
		st.Errors += r.errs
		if r.err != nil && st.FirstErr == "" {
			st.FirstErr = r.err.Error()
		}
	}
	st.Calls = len(all)
	st.Elapsed = elapsed
	st.PerSec = float64(len(all)) / elapsed.Seconds()
	st.P50, st.P99 = percentiles(all)
	if st.Calls == 0 {
		return st, fmt.Errorf("no successful call (%d errors): %s", st.Errors, st.FirstErr)
	}
	return st, ctx.Err()
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return at(0.50), at(0.99)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// expect checks a response's status.
func expect(resp *response, status int) error {
	if resp.status != status {
		b := resp.body
		if len(b) > 200 {
			b = b[:200]
		}
		return fmt.Errorf("status %d, want %d: %s", resp.status, status, b)
	}
	return nil
}

var errTimeout = errors.New("timed out")
