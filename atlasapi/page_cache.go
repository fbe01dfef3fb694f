package atlasapi

import (
	"net/http"
	"strconv"
	"sync"
	"unsafe"
)

// pageCache keeps the encoded answer of recent list requests, so that a
// repeated list costs a lookup instead of building and encoding a page
// (about 180 µs for 100 restore jobs, ten times what the HTTP exchange
// itself costs).
//
// An entry is reused only when the store handed back the very same slice
// of items, with the same total and next-page answer. A caching store
// (sqlstore.Cached) returns the same slice exactly while the page is
// unchanged and never modifies it; any change gives a new slice, and a
// store without a cache gives a new slice every time. The entry holds on
// to the slice, so its memory cannot be reused for another page while the
// entry could match it. Everything else the bytes depend on (base URL,
// path, query, version) is in the key. An empty page may share its address
// with other empty slices, but its bytes depend on the key, total and next
// alone.
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
	items unsafe.Pointer
	n     int
	keep  any // the items, so their address stays theirs
	total int
	next  bool
	data  []byte
}

// pageKey is everything besides the items that a list answer depends on.
func pageKey(base string, r *http.Request, st *state) string {
	return st.version + " " + base + r.URL.EscapedPath() + "?" + r.URL.RawQuery
}

func (c *pageCache) get(key string, items unsafe.Pointer, n, total int, next bool) []byte {
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	if e != nil && e.items == items && e.n == n && e.total == total && e.next == next {
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

// cachedList answers a list from the cache, or builds the body, encodes
// it, and keeps the encoding.
func cachedList[T any](s *server, w http.ResponseWriter, r *http.Request, items []T, total int, next bool, build func(base string) any) error {
	st := stateOf(r)
	base := s.baseURL(r)
	key := pageKey(base, r, st)
	ptr := unsafe.Pointer(unsafe.SliceData(items))
	if data := s.pages.get(key, ptr, len(items), total, next); data != nil {
		s.writeBody(w, st, http.StatusOK, data)
		return nil
	}
	data, err := s.encodeBody(st, http.StatusOK, build(base))
	if err != nil {
		return err
	}
	s.pages.put(key, &encodedPage{items: ptr, n: len(items), keep: items, total: total, next: next, data: data})
	s.writeBody(w, st, http.StatusOK, data)
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
