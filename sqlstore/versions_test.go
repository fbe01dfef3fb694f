package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flexd/flexd"
)

// TestVersionsChangedSince: a parent changed since a mark only if a bump
// of it, or of everything, came after the mark; other parents' bumps do
// not count.
func TestVersionsChangedSince(t *testing.T) {
	var v versions
	a, b := flexd.ClusterParent("a"), flexd.ClusterParent("b")
	m0 := v.Mark()
	if v.ChangedSince(m0, a) {
		t.Error("a parent never written has changed")
	}
	v.bump([]flexd.Parent{b})
	if v.ChangedSince(m0, a) {
		t.Error("a write to another parent changed a")
	}
	if !v.ChangedSince(m0, b) {
		t.Error("a write to b did not change it")
	}
	m1 := v.Mark()
	if v.ChangedSince(m1, a, b) {
		t.Error("changed since a mark taken after the write")
	}
	v.bump([]flexd.Parent{everything})
	if !v.ChangedSince(m1, a) {
		t.Error("a write to everything did not change a")
	}
	// The same cluster id as a credential id is another parent.
	m2 := v.Mark()
	v.bump([]flexd.Parent{flexd.CredentialParent("a")})
	if v.ChangedSince(m2, a) {
		t.Error("a credential write changed the cluster of the same id")
	}
}

// TestVersionsNeverGoBack: of concurrent bumps, the last step of a parent
// is the highest, whatever order they store in. A mark taken between two
// bumps must see the later one.
func TestVersionsNeverGoBack(t *testing.T) {
	var v versions
	p := flexd.ProjectParent("p")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				v.bump([]flexd.Parent{p})
			}
		})
	}
	wg.Wait()
	if got, want := v.Mark(), uint64(8000); got != want {
		t.Fatalf("mark %d after %d bumps", got, want)
	}
	if !v.ChangedSince(v.Mark()-1, p) {
		t.Error("the last bump's step was overwritten by an earlier one")
	}
}

// TestTouchAppliesAtCommit: a touch outside a transaction applies at once
// (its statement has run); inside one it applies only once the
// transaction has ended, committed or not, so no reader marks after the
// bump and still reads what the transaction replaced. Store.InTx, the
// unit of work, inherits this from inTx.
func TestTouchAppliesAtCommit(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, testSQLite)
	vs := s.Versions()
	p := flexd.ClusterParent("c")

	mark := vs.Mark()
	s.run().touch(p)
	if !vs.ChangedSince(mark, p) {
		t.Error("a touch outside a transaction did not apply at once")
	}

	for _, fail := range []bool{false, true} {
		mark = vs.Mark()
		err := s.inTx(context.Background(), func(r runner) error {
			r.touch(p)
			if vs.ChangedSince(mark, p) {
				t.Error("a touch applied before its transaction ended")
			}
			if fail {
				return errors.New("roll back")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatal(err)
		}
		if !vs.ChangedSince(mark, p) {
			t.Errorf("a touch did not apply when its transaction ended (rolled back: %v)", fail)
		}
	}
}
