package service_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
)

// FuzzAccessListEntry feeds arbitrary addresses and blocks to the access
// list: each is refused with an Atlas 400 or stored in canonical form, and
// then found again by what the entry's self link names.
func FuzzAccessListEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "10.0.0.1/8", "2001:db8::/32", "::ffff:1.2.3.4",
		"fe80::1%eth0", "1.2.3.4/33", "", "sg-903004f8", "0.0.0.0/0", "::/0"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "flexd.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, nil, nil, service.Config{})
	if err := svc.Init(ctx); err != nil {
		f.Fatal(err)
	}
	p := &flexd.Project{ID: flexd.NewID(flexd.SystemClock{}.Now()), OrgID: svc.DefaultOrgID(), Name: "fuzz"}
	if err := store.CreateProject(ctx, p); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string, asAddress bool) {
		in := flexd.AccessListInput{CIDRBlock: value}
		if asAddress {
			in = flexd.AccessListInput{IPAddress: value}
		}
		err := svc.AddAccessListEntries(ctx, p.ID, []flexd.AccessListInput{in})
		if e := flexd.AsError(err); err != nil {
			if e == nil || e.Status != 400 {
				t.Fatalf("%q: %v, want an Atlas 400", value, err)
			}
			return
		}
		if value == "" {
			return
		}
		e, err := svc.GetAccessListEntry(ctx, p.ID, value)
		if err != nil {
			t.Fatalf("%q stored but not found: %v", value, err)
		}
		pr, perr := netip.ParsePrefix(e.CIDRBlock)
		if perr != nil || pr.String() != e.CIDRBlock || pr != pr.Masked() {
			t.Fatalf("%q stored as %q: not canonical", value, e.CIDRBlock)
		}
		if err := svc.DeleteAccessListEntry(ctx, p.ID, e.CIDRBlock); err != nil && !errors.Is(err, flexd.ErrNotFound) {
			t.Fatalf("delete %q: %v", e.CIDRBlock, err)
		}
	})
}
