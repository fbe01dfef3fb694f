package atlasapi

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/flexd/flexd"
)

// The generic handlers below are the only places that call a service and
// encode its answer; the resource files give them a service call and a
// view. A view turns a domain value into its wire shape, given the base URL
// its links start with.

// one answers a request that reads or acts on one resource.
func one[T, V any](s *server, status int, call func(r *http.Request) (*T, error), view func(base string, t *T) V) http.Handler {
	return result(s, status, func(_ http.ResponseWriter, r *http.Request) (*T, error) {
		return call(r)
	}, view)
}

// withBody answers a request whose body decodes into In: decode, check a
// body-scoped access rule, call the service, encode.
func withBody[In, T, V any](s *server, status int, call func(r *http.Request, in *In) (*T, error), view func(base string, t *T) V) http.Handler {
	return result(s, status, func(w http.ResponseWriter, r *http.Request) (*T, error) {
		in, err := decode[In](w, r)
		if err != nil {
			return nil, err
		}
		if err := s.authorizeBody(r, in); err != nil {
			return nil, err
		}
		return call(r, in)
	}, view)
}

// errNoResult flags a service that returned neither a value nor an error.
var errNoResult = errors.New("service returned no result")

func result[T, V any](s *server, status int, call func(w http.ResponseWriter, r *http.Request) (*T, error), view func(base string, t *T) V) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		t, err := call(w, r)
		if err == nil && t == nil {
			err = errNoResult
		}
		if err != nil {
			return err
		}
		s.respond(w, r, status, view(s.baseURL(r), t))
		return nil
	})
}

// remove answers a delete: 204 without a body.
func remove(s *server, del func(r *http.Request) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := del(r); err != nil {
			return err
		}
		s.respondNoContent(w, r)
		return nil
	})
}

// selfQuery is a list's own query as Atlas writes its self link:
// includeCount first when the request gave it, then the other parameters
// (filters, pretty, envelope) sorted by name, then pageNum and
// itemsPerPage ("includeCount=true&pageNum=1&itemsPerPage=100").
func selfQuery(q url.Values, p flexd.Page) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
	}
	for _, v := range q["includeCount"] {
		add("includeCount", v)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k == "includeCount" || k == "pageNum" || k == "itemsPerPage" {
			continue
		}
		for _, v := range q[k] {
			add(k, v)
		}
	}
	add("pageNum", itoa(p.Num))
	add("itemsPerPage", itoa(p.ItemsPerPage))
	return b.String()
}

// removeAccepted answers a delete that Atlas acknowledges as accepted:
// 202 with an empty object in the route's version.
func removeAccepted(s *server, del func(r *http.Request) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := del(r); err != nil {
			return err
		}
		s.respond(w, r, http.StatusAccepted, struct{}{})
		return nil
	})
}

// lister fetches one page of a list and, when the page asks for it, the
// total count. It must honour Page.Peek (the store's lists do): the item
// after the page is how list learns that a next page exists.
type lister[T any] func(r *http.Request, p flexd.Page) ([]T, int, error)

// page is the spec's Paginated*View; status is added by envelope=true.
type page[V any] struct {
	Links      []link `json:"links"`
	Results    []V    `json:"results"`
	TotalCount *int   `json:"totalCount,omitempty"`
	Status     *int   `json:"status,omitempty"`
}

func (p page[V]) enveloped(status int) any {
	p.Status = &status
	return p
}

// list answers a list route: read the paging parameters, fetch the page,
// link to the pages around it.
func list[T, V any](s *server, fetch lister[T], view func(base string, t *T) V) http.Handler {
	return listAs(s, http.StatusOK, fetch, view)
}

// listAs is list answered with status: a create that answers with the
// whole list (access list entries) says 201, on the status line and in an
// envelope alike.
func listAs[T, V any](s *server, status int, fetch lister[T], view func(base string, t *T) V) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, qerr := pageParams(stateOf(r).query)
		if qerr != nil {
			return qerr
		}
		_, err := answerPage(s, w, r, status, p, fetch, view)
		return err
	})
}

// listInCluster answers a list of what a cluster holds (snapshots, restore
// jobs). The cluster of the path is read once, and the encoded answer is
// reused while nothing of the cluster changed (page_cache.go).
func listInCluster[T, V any](s *server, fetch func(r *http.Request, c *flexd.FlexCluster, p flexd.Page) ([]T, int, error),
	view func(base string, t *T) V) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, qerr := pageParams(stateOf(r).query)
		if qerr != nil {
			return qerr
		}
		c, err := s.clusterOf(r)
		if err != nil {
			return err
		}
		return s.cachedList(w, r, flexd.ClusterParent(c.ID), func() ([]byte, error) {
			return answerPage(s, w, r, http.StatusOK, p, func(r *http.Request, p flexd.Page) ([]T, int, error) {
				return fetch(r, c, p)
			}, view)
		})
	})
}

// answerPage fetches page p with the item after it, writes the answer and
// returns its encoding. Whether a next page exists is known from that one
// read: with the total it is arithmetic, without it (includeCount=false)
// it is whether the item after the page came back, so a next link never
// leads to an empty page.
func answerPage[T, V any](s *server, w http.ResponseWriter, r *http.Request, status int, p flexd.Page, fetch lister[T],
	view func(base string, t *T) V) ([]byte, error) {
	st := stateOf(r)
	p.Peek = true
	items, total, err := fetch(r, p)
	if err != nil {
		return nil, err
	}
	next := len(items) > p.ItemsPerPage
	if next {
		items = items[:p.ItemsPerPage]
	}
	base := s.baseURL(r)
	body := page[V]{Links: pageLinks(base, r, st.query, p, next), Results: make([]V, len(items))}
	for i := range items {
		body.Results[i] = view(base, &items[i])
	}
	if p.Count && total >= 0 {
		body.TotalCount = &total
	}
	data, err := s.encodeBody(st, status, body)
	if err != nil {
		return nil, err
	}
	s.writeBody(w, st, status, data)
	return data, nil
}

// projectOf is the project of the path, which the route's access check
// loaded (a group-scoped route always has one).
func projectOf(r *http.Request) (*flexd.Project, error) {
	if p := stateOf(r).project; p != nil {
		return p, nil
	}
	return nil, errors.New("route has no authorized project")
}

// clusterOf reads the cluster of the path, in the project already loaded.
func (s *server) clusterOf(r *http.Request) (*flexd.FlexCluster, error) {
	p, err := projectOf(r)
	if err != nil {
		return nil, err
	}
	return s.cfg.Clusters.GetFlexCluster(r.Context(), p, r.PathValue("name"))
}

// pageLinks are a list's self, previous and next links: the request's own
// absolute URL with pageNum and itemsPerPage set for that page and every
// other query parameter kept. The previous and next queries are sorted by
// name; the self query is in the order real Atlas writes it
// (selfQuery).
func pageLinks(base string, r *http.Request, q url.Values, p flexd.Page, next bool) []link {
	path := base + r.URL.EscapedPath() + "?"
	href := func(num int) string {
		v := maps.Clone(q)
		if v == nil {
			v = url.Values{}
		}
		v.Set("pageNum", itoa(num))
		v.Set("itemsPerPage", itoa(p.ItemsPerPage))
		return path + v.Encode()
	}
	links := []link{{Href: path + selfQuery(q, p), Rel: "self"}}
	if p.Num > 1 {
		links = append(links, link{Href: href(p.Num - 1), Rel: "previous"})
	}
	if next {
		links = append(links, link{Href: href(p.Num + 1), Rel: "next"})
	}
	return links
}
