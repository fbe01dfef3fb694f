package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// listQuery is the page the list scenarios ask for.
const listQuery = "?itemsPerPage=100&includeCount=true"

// headers are a scenario request's headers: the versioned Accept and, with
// a bearer token, its Authorization.
func (b *bench) headers() map[string]string {
	h := map[string]string{"Accept": acceptFlex}
	if b.creds.bearer != "" {
		h["Authorization"] = "Bearer " + b.creds.bearer
	}
	return h
}

// getCall is the call of a scenario that repeats one GET.
func (b *bench) getCall(target string) func(int) call {
	req := request("GET", target, b.addr, b.headers(), nil)
	return func(int) call {
		var resp response
		return func(c *conn) error {
			if err := c.do(req, &resp); err != nil {
				return err
			}
			return expect(&resp, 200)
		}
	}
}

// measure runs a load run of newCall and records it as a row whose ceiling
// is target (none when target is empty).
func (b *bench) measure(ctx context.Context, scenario, name, target string, conns int, newCall func(int) call) (*row, error) {
	b.logf("scenario %s: %s", scenario, name)
	r := b.rep.add(scenario, name)
	peakRSS := b.flexd.sampleRSS(100 * time.Millisecond) // RSS under load
	st, err := drive(ctx, b.addr, conns, b.o.warmup, b.o.duration, newCall)
	peak := peakRSS()
	r.Flexd = &st
	if err != nil {
		return r, fmt.Errorf("scenario %s (%s): %w", scenario, name, err)
	}
	b.peakRSS = max(b.peakRSS, peak)
	if target != "" {
		return r, b.capture(r, target, b.headers())
	}
	return r, nil
}

// 1: list restore jobs, 100 per page with the count, Bearer token.
func (b *bench) listBearer(ctx context.Context) error {
	target := restoreJobsPath(b.group, listed) + listQuery
	name := "list restore jobs 100/page, Bearer"
	if b.creds.bearer == "" {
		name = "list restore jobs 100/page, no auth (no bearer tokens in this flexd)"
	}
	_, err := b.measure(ctx, "1", name, target, b.o.conns, b.getCall(target))
	return err
}

// 2: the same list with the two-request Digest handshake of the Go SDK:
// the first request is answered 401 with a challenge, the second carries
// the answer to it.
func (b *bench) listDigest(ctx context.Context) error {
	target := restoreJobsPath(b.group, listed) + listQuery
	if !b.creds.digest {
		b.rep.add("2", "list restore jobs 100/page, Digest").Note = "skipped: this flexd does not authenticate API keys"
		return nil
	}
	plain := request("GET", target, b.addr, map[string]string{"Accept": acceptFlex}, nil)
	_, err := b.measure(ctx, "2", "list restore jobs 100/page, Digest handshake (2 requests)", target, b.o.conns, func(int) call {
		var resp response
		return func(c *conn) error {
			if err := c.do(plain, &resp); err != nil {
				return err
			}
			if err := expect(&resp, 401); err != nil {
				return err
			}
			a, err := digestAuth(resp.challenge, "GET", target, b.creds.PublicKey, b.creds.PrivateKey)
			if err != nil {
				return err
			}
			req := request("GET", target, b.addr, map[string]string{"Accept": acceptFlex, "Authorization": a}, nil)
			if err := c.do(req, &resp); err != nil {
				return err
			}
			return expect(&resp, 200)
		}
	})
	return err
}

// 3: get one restore job; list snapshots.
func (b *bench) getAndSnapshots(ctx context.Context) error {
	target := restoreJobsPath(b.group, listed) + "/" + b.jobID
	if _, err := b.measure(ctx, "3", "get one restore job", target, b.o.conns, b.getCall(target)); err != nil {
		return err
	}
	target = snapshotsPath(b.group, listed)
	_, err := b.measure(ctx, "3", "list snapshots", target, b.o.conns, b.getCall(target))
	return err
}

// 5: list latency at one store size: the listed cluster's first page, and
// a page that no cache holds: each call asks a different bulk-loaded
// cluster with a different page size (the same 100 jobs, and links that
// differ), cycling through more pages than flexd caches, so every call
// reads the store. Its p50 at the large size over the small one is the
// scale figure.
func (b *bench) scale(ctx context.Context, size string) ([]*row, error) {
	target := restoreJobsPath(b.group, listed) + listQuery
	same, err := b.measure(ctx, "5", "list same cluster, "+size, target, b.o.conns, b.getCall(target))
	if err != nil {
		return nil, err
	}
	h := b.headers()
	const sizes = 400 // itemsPerPage 100..499
	rot, err := b.measure(ctx, "5", "list uncached pages, "+size, "", b.o.conns, func(w int) call {
		var resp response
		i := w * 7919
		return func(c *conn) error {
			i++
			bc := b.bulk[i%len(b.bulk)]
			q := fmt.Sprintf("?itemsPerPage=%d&includeCount=true", 100+(i/len(b.bulk))%sizes)
			if err := c.do(request("GET", restoreJobsPath(bc.group, bc.name)+q, b.addr, h, nil), &resp); err != nil {
				return err
			}
			return expect(&resp, 200)
		}
	})
	if err != nil {
		return nil, err
	}
	rot.Note = "no ceiling: every call reads another page from the store"
	return []*row{same, rot}, nil
}

// 4: create a restore job and wait until it is COMPLETED: the latency with
// one restore at a time, then jobs/s with o.inflight restores in flight,
// each worker restoring into its own target (restores into one target run
// one at a time, as in Atlas).
func (b *bench) restores(ctx context.Context) error {
	newCall := func(pause time.Duration) func(int) call {
		return func(w int) call {
			target := b.targets[w%len(b.targets)]
			body, _ := json.Marshal(map[string]string{"snapshotId": b.snap, "targetDeploymentItemName": target})
			create := request("POST", restoreJobsPath(b.group, listed), b.addr, b.headers(), body)
			var resp response
			return func(c *conn) error {
				if err := c.do(create, &resp); err != nil {
					return err
				}
				if err := expect(&resp, 200); err != nil {
					return err
				}
				var j idOf
				if err := json.Unmarshal(resp.body, &j); err != nil {
					return err
				}
				get := request("GET", restoreJobsPath(b.group, listed)+"/"+j.ID, b.addr, b.headers(), nil)
				deadline := time.Now().Add(time.Minute)
				for j.Status != "COMPLETED" {
					if j.Status == "FAILED" {
						return fmt.Errorf("restore %s failed", j.ID)
					}
					if time.Now().After(deadline) {
						return fmt.Errorf("restore %s: %w", j.ID, errTimeout)
					}
					time.Sleep(pause)
					if err := c.do(get, &resp); err != nil {
						return err
					}
					if err := expect(&resp, 200); err != nil {
						return err
					}
					if err := json.Unmarshal(resp.body, &j); err != nil {
						return err
					}
				}
				return nil
			}
		}
	}
	r, err := b.measure(ctx, "4", "create restore, wait COMPLETED (1 in flight)", "", 1, newCall(0))
	if err != nil {
		return err
	}
	r.Note = "latency from create to COMPLETED, polling without pause"
	r, err = b.measure(ctx, "4", fmt.Sprintf("restores/s, %d in flight", b.o.inflight), "", b.o.inflight, newCall(time.Millisecond))
	if err != nil {
		return err
	}
	r.Note = "req/s column is completed restores/s; polls every 1ms"
	return nil
}
