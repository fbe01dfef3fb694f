package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// accessListEntryView is the spec's NetworkPermissionEntry as real Atlas
// answers it (ATLAS-NOTES §7): cidrBlock always ("a.b.c.d/32" for an
// entry made from an address), ipAddress only for such an entry, comment
// always, deleteAfterDate for temporary entries, a self link whose block
// has its "/" escaped.
type accessListEntryView struct {
	CIDRBlock       string    `json:"cidrBlock"`
	Comment         string    `json:"comment"`
	DeleteAfterDate atlasTime `json:"deleteAfterDate,omitzero"`
	GroupID         string    `json:"groupId"`
	IPAddress       string    `json:"ipAddress,omitempty"`
	Links           []link    `json:"links"`
}

func viewAccessListEntry(base string, e *flexd.AccessListEntry) accessListEntryView {
	return accessListEntryView{
		CIDRBlock:       e.CIDRBlock,
		Comment:         e.Comment,
		DeleteAfterDate: atlasTime(e.DeleteAfterDate),
		GroupID:         e.GroupID,
		IPAddress:       e.IPAddress,
		Links:           selfLink(apiPath(base, "groups", e.GroupID, "accessList", e.CIDRBlock)),
	}
}

// accessListStatusView is NetworkPermissionEntryStatus. flexd applies an
// entry the moment it is written (there is no cloud provider to wait for),
// so an entry that exists is ACTIVE.
type accessListStatusView struct {
	Status string `json:"STATUS"`
}

func viewAccessListStatus(string, *flexd.AccessListEntry) accessListStatusView {
	return accessListStatusView{Status: "ACTIVE"}
}

// accessListBody is one NetworkPermissionEntry of a create.
type accessListBody struct {
	AWSSecurityGroup string  `json:"awsSecurityGroup"`
	CIDRBlock        string  `json:"cidrBlock"`
	Comment          string  `json:"comment"`
	DeleteAfterDate  *string `json:"deleteAfterDate"`
	IPAddress        string  `json:"ipAddress"`
}

func (accessListBody) ignored() []string { return []string{"groupId", "links"} }

func (s *server) listAccessList() http.Handler {
	return list(s, s.fetchAccessList, viewAccessListEntry)
}

func (s *server) fetchAccessList(r *http.Request, p flexd.Page) ([]flexd.AccessListEntry, int, error) {
	return s.cfg.DatabaseAccess.ListAccessList(r.Context(), r.PathValue("groupId"), p)
}

// createAccessList adds the entries of the array body and answers, as
// Atlas does, 201 with the project's whole list, paginated like a GET.
func (s *server) createAccessList() http.Handler {
	page := listAs(s, http.StatusCreated, s.fetchAccessList, viewAccessListEntry)
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		body, err := decodeArray[accessListBody](w, r)
		if err != nil {
			return err
		}
		in := make([]flexd.AccessListInput, len(body))
		for i, b := range body {
			deleteAfter, err := parseDateTime(b.DeleteAfterDate, "deleteAfterDate")
			if err != nil {
				return err
			}
			in[i] = flexd.AccessListInput{IPAddress: b.IPAddress, CIDRBlock: b.CIDRBlock,
				AWSSecurityGroup: b.AWSSecurityGroup, Comment: b.Comment, DeleteAfterDate: deleteAfter}
		}
		if err := s.cfg.DatabaseAccess.AddAccessListEntries(r.Context(), r.PathValue("groupId"), in); err != nil {
			return err
		}
		page.ServeHTTP(w, r)
		return nil
	})
}

func (s *server) getAccessListEntry() http.Handler {
	return one(s, http.StatusOK, s.accessListEntry, viewAccessListEntry)
}

func (s *server) getAccessListStatus() http.Handler {
	return one(s, http.StatusOK, s.accessListEntry, viewAccessListStatus)
}

func (s *server) accessListEntry(r *http.Request) (*flexd.AccessListEntry, error) {
	return s.cfg.DatabaseAccess.GetAccessListEntry(r.Context(), r.PathValue("groupId"), r.PathValue("entryValue"))
}

func (s *server) deleteAccessListEntry() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.DatabaseAccess.DeleteAccessListEntry(r.Context(), r.PathValue("groupId"), r.PathValue("entryValue"))
	})
}
