package atlasapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/flexd/flexd"
)

// respond writes a successful response in the route's resource version,
// honouring pretty and envelope.
func (s *server) respond(w http.ResponseWriter, r *http.Request, status int, v any) {
	st := stateOf(r)
	data, err := s.encodeBody(st, status, v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, st, status, data)
}

// respondNoContent answers a delete. It keeps the versioned Content-Type
// the spec declares for the 204 (the body stays empty, envelope or not).
func (s *server) respondNoContent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", mediaType(stateOf(r).version))
	w.WriteHeader(http.StatusNoContent)
}

// envelope wraps a single resource when envelope=true, for clients that
// cannot read the status line (the v1 API's documented shape).
type envelope struct {
	Content any `json:"content"`
	Status  int `json:"status"`
}

// enveloper is a body that envelopes itself: a list gets "status" added
// beside its results.
type enveloper interface {
	enveloped(status int) any
}

// marshal encodes compact JSON, or indented by two spaces for pretty=true.
// HTML characters are not escaped, like Atlas, and there is no trailing
// newline.
func marshal(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// baseURL is where clients reach flexd: the configured public URL, or the
// request's own scheme and host. X-Forwarded-* headers are not trusted;
// behind a proxy, set PublicURL.
func (s *server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// link is the spec's Link.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// selfLink is the links array of a single resource.
func selfLink(href string) []link { return []link{{Href: href, Rel: "self"}} }

// atlasRel is the prefix of the rel of Atlas's links to a resource's
// sub-collections ("https://cloud.mongodb.com/clusters").
const atlasRel = "https://cloud.mongodb.com/"

// resourceLinks is a resource's self link followed by a link to each named
// sub-collection, href self/name and rel atlasRel+name, as real Atlas
// writes them for projects and organizations.
func resourceLinks(self string, collections ...string) []link {
	links := make([]link, 0, 1+len(collections))
	links = append(links, link{Href: self, Rel: "self"})
	for _, c := range collections {
		links = append(links, link{Href: self + "/" + c, Rel: atlasRel + c})
	}
	return links
}

// apiPath joins path segments under /api/atlas/v2, escaping each one.
func apiPath(base string, segments ...string) string {
	p := base + apiV2
	for _, seg := range segments {
		p += "/" + url.PathEscape(seg)
	}
	return p
}

// atlasTime is a timestamp as Atlas writes it: ISO 8601 in UTC with a Z and
// whole seconds. The zero time is omitted (with the omitzero tag option).
type atlasTime time.Time

func (t atlasTime) IsZero() bool { return time.Time(t).IsZero() }

func (t atlasTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(`"2006-01-02T15:04:05Z"`))
	b = append(b, '"')
	b = time.Time(t).UTC().Truncate(time.Second).AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, '"'), nil
}

// tag is the spec's ResourceTag, on the wire in both directions.
type tag struct {
	Key   string `json:"key" atlas:"required"`
	Value string `json:"value" atlas:"required"`
}

// tagsView is nil for no tags, so that an omitempty tags member is absent
// (Atlas leaves it out when none were given).
func tagsView(tags []flexd.Tag) []tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]tag, len(tags))
	for i, t := range tags {
		out[i] = tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func tagsOf(tags []tag) []flexd.Tag {
	if tags == nil {
		return nil
	}
	out := make([]flexd.Tag, len(tags))
	for i, t := range tags {
		out[i] = flexd.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// tagsUpdate is a PATCH's tags: nil leaves them, an empty array clears them.
func tagsUpdate(tags *[]tag) *[]flexd.Tag {
	if tags == nil {
		return nil
	}
	out := tagsOf(*tags)
	return &out
}
