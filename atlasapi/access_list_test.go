package atlasapi_test

import (
	"strings"
	"testing"
	"time"
)

func TestAccessList(t *testing.T) {
	h, g := dbHarness(t)
	al := "/api/atlas/v2/groups/" + g + "/accessList"

	// POST takes an array and answers 201 with the whole list.
	page := h.ok(201, "POST", al, `[{"ipAddress":"192.168.0.243","comment":""},`+
		`{"cidrBlock":"10.1.0.0/16","comment":"office"},{"cidrBlock":"2001:db8::/32","comment":"v6"},`+
		`{"ipAddress":"2001:DB8:0:0::7"}]`, dbAccept)
	if page["totalCount"] != float64(4) || len(results(page)) != 4 {
		t.Fatalf("create answer: %v", page)
	}
	byBlock := map[string]map[string]any{}
	for _, r := range results(page) {
		e := r.(map[string]any)
		byBlock[e["cidrBlock"].(string)] = e
		if e["groupId"] != g || e["comment"] == nil {
			t.Errorf("entry %v", e)
		}
	}
	ip := byBlock["192.168.0.243/32"]
	if ip == nil || ip["ipAddress"] != "192.168.0.243" || !strings.HasSuffix(links(t, ip)["self"], "/accessList/192.168.0.243%2F32") {
		t.Errorf("entry from an address: %v", ip)
	}
	if cidr := byBlock["10.1.0.0/16"]; cidr == nil || cidr["ipAddress"] != nil || cidr["comment"] != "office" {
		t.Errorf("entry from a block: %v", cidr)
	}
	if v6 := byBlock["2001:db8::7/128"]; v6 == nil || v6["ipAddress"] != "2001:db8::7" {
		t.Errorf("IPv6 address, canonical: %v", byBlock)
	}
	// In an envelope the create says 201 too, as on its status line (it
	// said 200: the list that answers it did).
	if env := h.ok(201, "POST", al+"?envelope=true", `[{"cidrBlock":"10.1.0.0/16","comment":"office"}]`, dbAccept); env["status"] != 201.0 || env["totalCount"] != 4.0 {
		t.Errorf("create envelope: %v", env)
	}

	// Reads by the escaped block, the bare address, either case of %2F,
	// and IPv6 in any spelling.
	for _, path := range []string{"192.168.0.243%2F32", "192.168.0.243", "10.1.0.0%2F16", "10.1.0.0%2f16",
		"2001:db8::%2F32", "2001:0DB8:0::%2F32", "2001:db8::7"} {
		h.ok(200, "GET", al+"/"+path, "", dbAccept)
		st := h.ok(200, "GET", al+"/"+path+"/status", "", dbAccept)
		if st["STATUS"] != "ACTIVE" {
			t.Errorf("status of %s: %v", path, st)
		}
	}
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "GET", al+"/10.9.9.9", "", dbAccept)
	params := h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "GET", al+"/10.1.0.0%2F24/status", "", dbAccept)
	if len(params) != 2 || params[0] != "10.1.0.0/24" || params[1] != g {
		t.Errorf("not-found parameters %v", params)
	}
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "GET", al+"/sg-903004f8", "", dbAccept)

	// Adding a listed block again replaces its comment, keeps its place.
	page = h.ok(201, "POST", al, `[{"cidrBlock":"10.1.0.0/16","comment":"moved"}]`, dbAccept)
	if page["totalCount"] != float64(4) {
		t.Errorf("re-add grew the list: %v", page)
	}
	if e := h.ok(200, "GET", al+"/10.1.0.0%2F16", "", dbAccept); e["comment"] != "moved" {
		t.Errorf("re-add: %v", e)
	}

	// Delete by the bare address or the escaped block.
	h.ok(204, "DELETE", al+"/192.168.0.243", "", dbAccept)
	h.ok(204, "DELETE", al+"/2001:db8::%2F32", "", dbAccept)
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "DELETE", al+"/192.168.0.243%2F32", "", dbAccept)
	list := h.ok(200, "GET", al, "", dbAccept)
	if list["totalCount"] != float64(2) {
		t.Errorf("after deletes: %v", list)
	}

	// Paging applies to the create's answer as to the list.
	page = h.ok(201, "POST", al+"?itemsPerPage=1", `[{"ipAddress":"203.0.113.9"}]`, dbAccept)
	if len(results(page)) != 1 || page["totalCount"] != float64(3) || links(t, page)["next"] == "" {
		t.Errorf("paged create answer: %v", page)
	}
	second := h.ok(200, "GET", al+"?itemsPerPage=2&pageNum=2", "", dbAccept)
	if len(results(second)) != 1 || links(t, second)["previous"] == "" {
		t.Errorf("page 2: %v", second)
	}
}

func TestAccessListErrors(t *testing.T) {
	h, g := dbHarness(t)
	al := "/api/atlas/v2/groups/" + g + "/accessList"
	for _, tc := range []struct {
		name, body string
		code       string
	}{
		{"aws security group", `[{"awsSecurityGroup":"sg-903004f8"}]`, "CANNOT_USE_AWS_SECURITY_GROUP_WITHOUT_VPC_PEERING_CONNECTION"},
		{"bad address", `[{"ipAddress":"300.1.1.1"}]`, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION"},
		{"address with a length", `[{"ipAddress":"10.0.0.0/8"}]`, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION"},
		{"zoned address", `[{"ipAddress":"fe80::1%eth0"}]`, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION"},
		{"bad block", `[{"cidrBlock":"10.0.0.0/33"}]`, "INVALID_CIDR_BLOCK"},
		{"block not at its start", `[{"cidrBlock":"10.0.0.1/8"}]`, "INVALID_CIDR_BLOCK"},
		{"both", `[{"ipAddress":"10.0.0.1","cidrBlock":"10.0.0.1/32"}]`, "BAD_WHITELIST_ADD_REQUEST"},
		{"neither", `[{"comment":"what"}]`, "MISSING_ATTRIBUTE"},
		{"twice in one request", `[{"ipAddress":"10.0.0.1"},{"cidrBlock":"10.0.0.1/32"}]`, "DUPLICATE_ADDRESSES_IN_INPUT"},
		{"long comment", `[{"ipAddress":"10.0.0.1","comment":"` + strings.Repeat("c", 81) + `"}]`, "INVALID_ATTRIBUTE"},
		{"past deleteAfterDate", `[{"ipAddress":"10.0.0.1","deleteAfterDate":"2020-01-01T00:00:00Z"}]`, "EXPIRATION_DATE_IN_PAST"},
		{"far deleteAfterDate", `[{"ipAddress":"10.0.0.1","deleteAfterDate":"2099-01-01T00:00:00Z"}]`, "EXPIRATION_DATE_EXCEEDS_MAX"},
		{"object, not array", `{"ipAddress":"10.0.0.1"}`, "INVALID_JSON"},
		{"malformed", `[{"ipAddress":`, "MALFORMED_JSON"},
		{"unknown attribute", `[{"ip":"10.0.0.1"}]`, "INVALID_ATTRIBUTE"},
		{"wrong type", `[{"ipAddress":7}]`, "INVALID_JSON_ATTRIBUTE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.fail(400, tc.code, "POST", al, tc.body, dbAccept)
		})
	}
	// Paths in an array body start at the array.
	for _, tc := range []struct{ body, code, path string }{
		{`[{"ip":"10.0.0.1"}]`, "INVALID_ATTRIBUTE", "[0].ip"},
		{`[{"ipAddress":"10.0.0.1"},{"ipAddress":7}]`, "INVALID_JSON_ATTRIBUTE", "[1].ipAddress"},
	} {
		if p := h.fail(400, tc.code, "POST", al, tc.body, dbAccept); len(p) != 1 || p[0] != tc.path {
			t.Errorf("%s: parameters %v, want [%s]", tc.body, p, tc.path)
		}
	}
	// A refused request adds nothing, not even its valid entries.
	h.fail(400, "INVALID_CIDR_BLOCK", "POST", al, `[{"ipAddress":"10.0.0.1"},{"cidrBlock":"nope"}]`, dbAccept)
	if list := h.ok(200, "GET", al, "", dbAccept); list["totalCount"] != float64(0) {
		t.Errorf("partial add: %v", list)
	}
}

func TestAccessListRoles(t *testing.T) {
	h, g := dbHarness(t)
	al := "/api/atlas/v2/groups/" + g + "/accessList"
	h.ok(201, "POST", al, `[{"ipAddress":"10.0.0.1"}]`, dbAccept)
	for _, who := range []string{"owner", "reader", "clustermgr", "dbadmin", "stranger"} {
		t.Run(who, func(t *testing.T) {
			c := h.with(who)
			switch who {
			case "stranger":
				c.fail(401, "NOT_IN_GROUP", "GET", al, "", dbAccept)
				return
			case "dbadmin":
				c.fail(401, "USER_UNAUTHORIZED", "GET", al, "", dbAccept)
			default:
				c.ok(200, "GET", al, "", dbAccept)
				c.ok(200, "GET", al+"/10.0.0.1", "", dbAccept)
				c.ok(200, "GET", al+"/10.0.0.1/status", "", dbAccept)
			}
			if who == "owner" {
				c.ok(201, "POST", al, `[{"ipAddress":"10.0.0.2"}]`, dbAccept)
				c.ok(204, "DELETE", al+"/10.0.0.2", "", dbAccept)
				return
			}
			c.fail(401, "USER_UNAUTHORIZED", "POST", al, `[{"ipAddress":"10.0.0.2"}]`, dbAccept)
			c.fail(401, "USER_UNAUTHORIZED", "DELETE", al+"/10.0.0.1", "", dbAccept)
		})
	}
}

// TestTemporaryAccessListEntryExpires moves flexd's clock past an entry's
// deleteAfterDate: the entry leaves every read at once, and may be added
// again.
func TestTemporaryAccessListEntryExpires(t *testing.T) {
	h, g := dbHarness(t)
	al := "/api/atlas/v2/groups/" + g + "/accessList"
	at := h.clock.Now().Add(30 * time.Minute).UTC().Truncate(time.Second)
	page := h.ok(201, "POST", al, `[{"ipAddress":"198.51.100.7","deleteAfterDate":"`+at.Format(time.RFC3339)+`"},`+
		`{"cidrBlock":"198.51.100.0/24"}]`, dbAccept)
	if e := results(page)[0].(map[string]any); e["deleteAfterDate"] != at.Format("2006-01-02T15:04:05Z") {
		t.Errorf("temporary entry: %v", e)
	}
	h.ok(200, "GET", al+"/198.51.100.7", "", dbAccept)

	h.clock.advance(time.Hour)
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "GET", al+"/198.51.100.7", "", dbAccept)
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "GET", al+"/198.51.100.7/status", "", dbAccept)
	h.fail(404, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", "DELETE", al+"/198.51.100.7", "", dbAccept)
	list := h.ok(200, "GET", al, "", dbAccept)
	if list["totalCount"] != float64(1) || results(list)[0].(map[string]any)["cidrBlock"] != "198.51.100.0/24" {
		t.Errorf("after expiry: %v", list)
	}
	page = h.ok(201, "POST", al, `[{"ipAddress":"198.51.100.7"}]`, dbAccept)
	if page["totalCount"] != float64(2) {
		t.Errorf("re-added: %v", page)
	}
}
