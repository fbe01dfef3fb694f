package dbauth

import (
	"context"
	"net/netip"
	"time"

	"github.com/flexd/flexd"
)

// AccessLists is what the gate reads: a project's access list entries.
type AccessLists interface {
	ListAccessListEntries(ctx context.Context, groupID string, asOf time.Time, p flexd.Page) ([]flexd.AccessListEntry, int, error)
}

// Gate decides which addresses may connect to a project's clusters.
type Gate struct {
	lists AccessLists
	clock flexd.Clock
}

// NewGate returns a Gate over lists; a nil clock is the system clock.
func NewGate(lists AccessLists, clock flexd.Clock) *Gate {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	return &Gate{lists: lists, clock: clock}
}

// Allowed reports whether a client at remoteAddr may connect to a cluster
// of project groupID: whether an entry of the project's access list that
// has not expired holds it. It fails closed: an empty list, or a store that
// cannot be read, lets no one in.
func (g *Gate) Allowed(ctx context.Context, groupID string, remoteAddr netip.Addr) bool {
	now := g.clock.Now()
	for page := 1; ; page++ {
		entries, _, err := g.lists.ListAccessListEntries(ctx, groupID, now, flexd.Page{Num: page, ItemsPerPage: 500})
		if err != nil {
			return false
		}
		if Allows(entries, remoteAddr, now) {
			return true
		}
		if len(entries) < 500 {
			return false
		}
	}
}

// Allows reports whether one of entries holds addr at now. An IPv4 address
// seen as IPv4-mapped IPv6 (::ffff:a.b.c.d, as a dual-stack listener
// reports it) is the IPv4 address.
func Allows(entries []flexd.AccessListEntry, addr netip.Addr, now time.Time) bool {
	addr = addr.Unmap().WithZone("")
	for i := range entries {
		e := &entries[i]
		if e.Expired(now) {
			continue
		}
		p, err := netip.ParsePrefix(e.CIDRBlock)
		if err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
