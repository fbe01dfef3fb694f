package atlasapi

import (
	"testing"

	"github.com/flexd/flexd"
)

func TestParseQueryKeepsUnescapableValues(t *testing.T) {
	q := parseQuery("pageNum=%zz&name=a%20b&name=c&%zz=1&pretty&&x=+y")
	if got := q["pageNum"]; len(got) != 1 || got[0] != "%zz" {
		t.Errorf("pageNum = %q, want the raw value", got)
	}
	if got := q["name"]; len(got) != 2 || got[0] != "a b" {
		t.Errorf("name = %q", got)
	}
	if got := q["pretty"]; len(got) != 1 || got[0] != "" {
		t.Errorf("pretty = %q, want one empty value", got)
	}
	if got := q.Get("x"); got != " y" {
		t.Errorf("x = %q", got)
	}
	if _, err := pageParams(q); err == nil || err.Parameters[0] != "pageNum" {
		t.Errorf("pageParams = %v, want INVALID_QUERY_PARAMETER pageNum", err)
	}
}

func TestPageParams(t *testing.T) {
	ok := []struct {
		raw  string
		want flexd.Page
	}{
		{"", flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}},
		{"itemsPerPage=1", flexd.Page{Num: 1, ItemsPerPage: 1, Count: true}},
		{"itemsPerPage=500&pageNum=3", flexd.Page{Num: 3, ItemsPerPage: 500, Count: true}},
		{"itemsPerPage=007", flexd.Page{Num: 1, ItemsPerPage: 7, Count: true}},
		{"includeCount=false", flexd.Page{Num: 1, ItemsPerPage: 100}},
		{"includeCount=TRUE", flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}},
		{"includeCount=False", flexd.Page{Num: 1, ItemsPerPage: 100}},
		{"pageNum=2147483647", flexd.Page{Num: 2147483647, ItemsPerPage: 100, Count: true}},
		{"unknown=1&name=x", flexd.Page{Num: 1, ItemsPerPage: 100, Count: true}},
	}
	for _, tt := range ok {
		got, err := pageParams(parseQuery(tt.raw))
		if err != nil || got != tt.want {
			t.Errorf("pageParams(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
	bad := map[string]string{
		"itemsPerPage=0":                       "itemsPerPage",
		"itemsPerPage=501":                     "itemsPerPage",
		"itemsPerPage=abc":                     "itemsPerPage",
		"itemsPerPage=-1":                      "itemsPerPage",
		"itemsPerPage=%2B1":                    "itemsPerPage",
		"itemsPerPage=1.0":                     "itemsPerPage",
		"itemsPerPage=0x10":                    "itemsPerPage",
		"itemsPerPage=":                        "itemsPerPage",
		"itemsPerPage=%201":                    "itemsPerPage",
		"itemsPerPage=1&itemsPerPage=1":        "itemsPerPage",
		"itemsPerPage=99999999999999999999999": "itemsPerPage",
		"pageNum=0":                            "pageNum",
		"pageNum=2147483648":                   "pageNum",
		"includeCount=yes":                     "includeCount",
		"includeCount=":                        "includeCount",
		"includeCount":                         "includeCount",
		"includeCount=1":                       "includeCount",
		"includeCount=true&includeCount=true":  "includeCount",
	}
	for raw, param := range bad {
		_, err := pageParams(parseQuery(raw))
		if err == nil || err.Code != "INVALID_QUERY_PARAMETER" || err.Status != 400 || err.Parameters[0] != param {
			t.Errorf("pageParams(%q) = %v; want INVALID_QUERY_PARAMETER %s", raw, err, param)
		}
	}
}

func TestFormatParams(t *testing.T) {
	pretty, envelope, err := formatParams(parseQuery("pretty=true&envelope=TRUE"))
	if err != nil || !pretty || !envelope {
		t.Fatalf("formatParams = %v %v %v", pretty, envelope, err)
	}
	for raw, param := range map[string]string{
		"pretty=1":                     "pretty",
		"pretty=":                      "pretty",
		"envelope=no":                  "envelope",
		"envelope=true&envelope=false": "envelope",
		"pretty=true&pretty=true":      "pretty",
	} {
		if _, _, err := formatParams(parseQuery(raw)); err == nil || err.Parameters[0] != param {
			t.Errorf("formatParams(%q) = %v; want INVALID_QUERY_PARAMETER %s", raw, err, param)
		}
	}
	if _, err := stringParam(parseQuery("name=a&name=b"), "name"); err == nil {
		t.Error("repeated name accepted")
	}
}
