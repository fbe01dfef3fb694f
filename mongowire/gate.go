package mongowire

import (
	"context"
	"sync"
)

// gate orders requests against pauses. A write pause lets in-flight writes
// finish and holds new ones (reads go on); a full pause (quiesce) does the
// same for every request. Pauses nest: each resume undoes one pause.
type gate struct {
	mu           sync.Mutex
	writes, all  int // requests in flight
	pausedWrites int
	pausedAll    int
	epoch        uint64 // bumped when a full pause ends: backend connections are stale
	waiting      int    // requests held by a pause
	pausing      int    // pauses waiting for requests in flight
	changed      chan struct{}
}

func newGate() *gate { return &gate{changed: make(chan struct{})} }

func (g *gate) broadcastLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// enter waits until a request of this kind may run and counts it in flight;
// it returns the current epoch.
func (g *gate) enter(ctx context.Context, write bool) (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.pausedAll > 0 || write && g.pausedWrites > 0 {
		ch := g.changed
		g.waiting++
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			g.mu.Lock()
			g.waiting--
			return 0, ctx.Err()
		}
		g.mu.Lock()
		g.waiting--
	}
	g.all++
	if write {
		g.writes++
	}
	return g.epoch, nil
}

func (g *gate) leave(write bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.all--
	if write {
		g.writes--
	}
	if g.pausing > 0 { // only a pause waits for requests to leave
		g.broadcastLocked()
	}
}

// pause holds new writes (or every request, with all) and waits for those in
// flight to finish. On error nothing stays paused.
func (g *gate) pause(ctx context.Context, all bool) (resume func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if all {
		g.pausedAll++
	} else {
		g.pausedWrites++
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if all {
				g.pausedAll--
				g.epoch++
			} else {
				g.pausedWrites--
			}
			g.broadcastLocked()
		})
	}
	for all && g.all > 0 || !all && g.writes > 0 {
		ch := g.changed
		g.pausing++
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			g.mu.Lock()
			g.pausing--
			g.mu.Unlock()
			resume()
			g.mu.Lock()
			return nil, ctx.Err()
		}
		g.mu.Lock()
		g.pausing--
	}
	return resume, nil
}
