package atlasapi

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/flexd/flexd"
)

// Paging limits from the spec. maxPageNum is flexd's own: the spec sets no
// maximum, but (pageNum-1)*itemsPerPage must stay a sane offset for every
// store and page count must fit the spec's int32 totalCount.
const (
	defaultItemsPerPage = 100
	maxItemsPerPage     = 500
	maxPageNum          = math.MaxInt32
)

// parseQuery decodes a raw query string. Unlike url.ParseQuery it does not
// drop a pair whose value cannot be unescaped: it keeps the raw value, which
// no boolean or integer parameter accepts, so a malformed pageNum=%zz is a
// 400 naming pageNum rather than silently the default, while a malformed
// parameter flexd does not read is ignored like any unknown one.
func parseQuery(raw string) url.Values {
	q := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		if value, err := url.QueryUnescape(v); err == nil {
			v = value
		}
		q[key] = append(q[key], v)
	}
	return q
}

func invalidParam(name string) *flexd.Error {
	return flexd.InvalidQueryParameter(name)
}

// single returns the one value of a parameter; given twice, it is invalid
// (which value a client meant is a guess).
func single(q url.Values, name string) (value string, present bool, err *flexd.Error) {
	switch vs := q[name]; len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	default:
		return "", true, invalidParam(name)
	}
}

// boolParam reads a boolean parameter: exactly true or false, in any case.
func boolParam(q url.Values, name string, def bool) (bool, *flexd.Error) {
	v, ok, err := single(q, name)
	switch {
	case err != nil:
		return false, err
	case !ok:
		return def, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, invalidParam(name)
}

// intParam reads an integer parameter: decimal digits only (no sign, no
// spaces, no hex), within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, *flexd.Error) {
	v, ok, err := single(q, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return def, nil
	}
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, invalidParam(name)
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < int64(lo) || n > int64(hi) {
		return 0, invalidParam(name)
	}
	return int(n), nil
}

// stringParam reads a free-text parameter (a name filter); empty is absent.
func stringParam(q url.Values, name string) (string, *flexd.Error) {
	v, _, err := single(q, name)
	return v, err
}

// formatParams reads the parameters every route takes.
func formatParams(q url.Values) (pretty, envelope bool, err *flexd.Error) {
	if envelope, err = boolParam(q, "envelope", false); err != nil {
		return false, false, err
	}
	if pretty, err = boolParam(q, "pretty", false); err != nil {
		return false, false, err
	}
	return pretty, envelope, nil
}

// pageParams reads the parameters of a list route.
func pageParams(q url.Values) (flexd.Page, *flexd.Error) {
	count, err := boolParam(q, "includeCount", true)
	if err != nil {
		return flexd.Page{}, err
	}
	per, err := intParam(q, "itemsPerPage", defaultItemsPerPage, 1, maxItemsPerPage)
	if err != nil {
		return flexd.Page{}, err
	}
	num, err := intParam(q, "pageNum", 1, 1, maxPageNum)
	if err != nil {
		return flexd.Page{}, err
	}
	return flexd.Page{Num: num, ItemsPerPage: per, Count: count}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
