package mongowire

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// PortRange is an inclusive range of TCP ports, as --cluster-ports gives it.
type PortRange struct{ First, Last int }

// ParsePortRange parses "27100-27999" or a single "27100".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("invalid port range %q: want FIRST-LAST within 1-65535", s)
	}
	return PortRange{a, b}, nil
}

// ErrNoPort means every port of the range is taken.
var ErrNoPort = errors.New("mongowire: no free port in the cluster port range")

// Ports hands out listeners on host within a range. A cluster asks for the
// port it had (stored with its record), so it keeps it across restarts; a
// port another process holds is skipped, not fatal.
type Ports struct {
	host string
	r    PortRange

	mu       sync.Mutex
	inUse    map[int]bool
	reserved map[int]bool
	next     int
}

// Reserve keeps ports for the clusters that stored them, so that at
// start-up a cluster without a port never takes one a cluster started
// later still owns. Listen(port) claims a reserved port; Listen(0) skips it.
func (p *Ports) Reserve(ports ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, port := range ports {
		p.reserved[port] = true
	}
}

// NewPorts returns an allocator for host (e.g. "127.0.0.1") and r.
func NewPorts(host string, r PortRange) *Ports {
	return &Ports{host: host, r: r, inUse: map[int]bool{}, reserved: map[int]bool{}, next: r.First}
}

// Listen opens a listener on preferred if it is in the range and free, else
// on the next free port of the range. Release the port by passing it to
// Release after closing the listener.
func (p *Ports) Listen(preferred int) (net.Listener, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if preferred >= p.r.First && preferred <= p.r.Last && !p.inUse[preferred] {
		delete(p.reserved, preferred)
		if ln, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(preferred))); err == nil {
			p.inUse[preferred] = true
			return ln, preferred, nil
		}
	}
	n := p.r.Last - p.r.First + 1
	for i := 0; i < n; i++ {
		port := p.next
		p.next++
		if p.next > p.r.Last {
			p.next = p.r.First
		}
		if p.inUse[port] || p.reserved[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(port)))
		if err != nil {
			continue // taken by another process
		}
		p.inUse[port] = true
		return ln, port, nil
	}
	return nil, 0, ErrNoPort
}

// Release returns port to the pool.
func (p *Ports) Release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}
