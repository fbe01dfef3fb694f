package atlasapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/flexd/flexd"
)

// pageCache keeps the encoded answer of recent list requests, so that a
// repeated list costs a lookup instead of reading and encoding a page
// (about 180 µs for 100 restore jobs, ten times what the HTTP exchange
// itself costs).
//
// An entry is reused by the contract of flexd.Versions: it holds the mark
// taken before its items were read and the parents they came from (the
// cluster whose jobs or snapshots it lists), and answers only while none
// of them has changed since. Everything else the bytes depend on (base
// URL, path, query, version, the cluster's id) is in the key.
type pageCache struct {
	mu    sync.Mutex
	m     map[string]*encodedPage
	bytes int
}

// Bounds of the cache: when either is reached it starts over. A page of
// 100 restore jobs is about 60 KB; the bounds keep the cache a small part
// of flexd's memory even when every request asks for another page.
const (
	pageCacheEntries = 256
	pageCacheBytes   = 8 << 20
)

type encodedPage struct {
	mark    uint64
	parents []flexd.Parent
	data    []byte
}

// pageKey is everything besides the items that a list of parent's items
// depends on.
func pageKey(parent flexd.Parent, base string, r *http.Request, st *state) string {
	return parent.ID + " " + st.version + " " + base + r.URL.EscapedPath() + "?" + r.URL.RawQuery
}

func (c *pageCache) get(key string, vs flexd.Versions) []byte {
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	if e != nil && !vs.ChangedSince(e.mark, e.parents...) {
		return e.data
	}
	return nil
}

func (c *pageCache) put(key string, e *encodedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= pageCacheEntries || c.bytes+len(e.data) > pageCacheBytes {
		c.m, c.bytes = map[string]*encodedPage{}, 0
	}
	if old := c.m[key]; old != nil {
		c.bytes -= len(old.data)
	}
	c.m[key] = e
	c.bytes += len(e.data)
}

// cachedList answers a list of what one parent holds from the cache, or
// reads the page with answer (which writes it and returns its encoding)
// and keeps the encoding. Without s.cfg.Versions nothing is cached.
func (s *server) cachedList(w http.ResponseWriter, r *http.Request, parent flexd.Parent, answer func() ([]byte, error)) error {
	vs := s.cfg.Versions
	if vs == nil {
		_, err := answer()
		return err
	}
	st := stateOf(r)
	key := pageKey(parent, s.baseURL(r), r, st)
	if data := s.pages.get(key, vs); data != nil {
		s.writeBody(w, st, http.StatusOK, data)
		return nil
	}
	mark := vs.Mark()
	data, err := answer()
	if err != nil || data == nil {
		return err
	}
	s.pages.put(key, &encodedPage{mark: mark, parents: []flexd.Parent{parent}, data: data})
	return nil
}

// encodeBody encodes a successful answer, honouring pretty and envelope.
func (s *server) encodeBody(st *state, status int, v any) ([]byte, error) {
	body := v
	if st.envelope {
		if e, ok := v.(enveloper); ok {
			body = e.enveloped(status)
		} else {
			body = envelope{Content: v, Status: status}
		}
	}
	return marshal(body, st.pretty)
}

// writeBody writes an encoded answer in the route's resource version. The
// length is known, so the body goes out in one piece rather than chunked.
func (s *server) writeBody(w http.ResponseWriter, st *state, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", mediaType(st.version))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
