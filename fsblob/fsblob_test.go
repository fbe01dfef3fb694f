package fsblob_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/blobtest"
	"github.com/flexd/flexd/fsblob"
)

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) flexd.BlobStore {
		s, err := fsblob.Open(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFilesArePrivateAndStayInsideRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "blobs")
	s, err := fsblob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(context.Background(), "snapshots/c/s.tar", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(root, "snapshots", "c", "s.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("blob mode = %v, want 0600", st.Mode().Perm())
	}
	// A traversal attempt writes nothing outside the root.
	s.Put(context.Background(), "../escape", bytes.NewReader([]byte("x")))
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("Put(../escape) wrote outside the root")
	}
}

func TestSweepRemovesInterruptedPuts(t *testing.T) {
	root := t.TempDir()
	s, err := fsblob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := s.Put(ctx, "a/keep", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	// What a crash between create and rename leaves behind.
	leftover := filepath.Join(root, "a", ".tmp-123")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.List(ctx, ""); len(keys) != 1 {
		t.Fatalf("List = %v, want only a/keep", keys)
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("Sweep left %s: %v", leftover, err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "keep")); err != nil {
		t.Fatalf("Sweep removed a finished blob: %v", err)
	}
}
