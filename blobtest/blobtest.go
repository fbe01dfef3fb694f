// Package blobtest is the contract suite every flexd.BlobStore passes.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/flexd/flexd"
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) flexd.BlobStore) {
	ctx := context.Background()
	t.Run("PutGetRoundTrip", func(t *testing.T) {
		s := open(t)
		data := bytes.Repeat([]byte("flexd blob "), 100_000)
		size, sum, err := s.Put(ctx, "snapshots/c1/s1.tar", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		if size != int64(len(data)) || sum != hex.EncodeToString(want[:]) {
			t.Fatalf("Put = %d %s, want %d %x", size, sum, len(data), want)
		}
		got := read(t, s, "snapshots/c1/s1.tar")
		if !bytes.Equal(got, data) {
			t.Fatalf("Get returned %d bytes, want the %d put", len(got), len(data))
		}
		r, _ := s.Get(ctx, "snapshots/c1/s1.tar")
		defer r.Close()
		if _, err := io.Copy(io.Discard, flexd.VerifyBlob(r, size, sum)); err != nil {
			t.Fatalf("VerifyBlob of an intact blob: %v", err)
		}
	})
	t.Run("EmptyBlob", func(t *testing.T) {
		s := open(t)
		size, sum, err := s.Put(ctx, "empty", bytes.NewReader(nil))
		if err != nil || size != 0 || sum != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
			t.Fatalf("Put(empty) = %d %s %v", size, sum, err)
		}
		if got := read(t, s, "empty"); len(got) != 0 {
			t.Fatalf("Get(empty) = %q", got)
		}
	})
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, "nope/x"); !errors.Is(err, flexd.ErrNotFound) {
			t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
		}
	})
	t.Run("ReplaceIsAtomic", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.Put(ctx, "k", bytes.NewReader([]byte("old"))); err != nil {
			t.Fatal(err)
		}
		// A Put whose reader fails half way leaves the old blob untouched.
		_, _, err := s.Put(ctx, "k", io.MultiReader(bytes.NewReader([]byte("new part")), failingReader{}))
		if err == nil {
			t.Fatal("Put with a failing reader succeeded")
		}
		if got := read(t, s, "k"); string(got) != "old" {
			t.Fatalf("after failed Put, Get = %q, want old", got)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := s.Put(cctx, "k", bytes.NewReader([]byte("cancelled"))); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		if _, _, err := s.Put(ctx, "k", bytes.NewReader([]byte("new"))); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "k"); string(got) != "new" {
			t.Fatalf("after Put, Get = %q, want new", got)
		}
		keys, err := s.List(ctx, "")
		if err != nil || !slices.Equal(keys, []string{"k"}) {
			t.Fatalf("List = %v %v, want [k] (no temporary files)", keys, err)
		}
	})
	t.Run("DeleteAndList", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"snapshots/b/2.tar", "snapshots/a/1.tar", "snapshots/b/1.tar", "other/x"} {
			if _, _, err := s.Put(ctx, k, bytes.NewReader([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := s.List(ctx, "snapshots/")
		if err != nil || !slices.Equal(keys, []string{"snapshots/a/1.tar", "snapshots/b/1.tar", "snapshots/b/2.tar"}) {
			t.Fatalf("List(snapshots/) = %v %v", keys, err)
		}
		if err := s.Delete(ctx, "snapshots/b/1.tar"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "snapshots/b/1.tar"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if _, err := s.Get(ctx, "snapshots/b/1.tar"); !errors.Is(err, flexd.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
		keys, _ = s.List(ctx, "snapshots/b")
		if !slices.Equal(keys, []string{"snapshots/b/2.tar"}) {
			t.Fatalf("List after Delete = %v", keys)
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"", "/abs", "../up", "a/../../up", "a/./b", "a//b", "a/", `a\b`, "a b", "nul\x00", ".tmp-x", "é"} {
			if _, _, err := s.Put(ctx, k, bytes.NewReader([]byte("x"))); !errors.Is(err, flexd.ErrBadBlobKey) {
				t.Errorf("Put(%q) error = %v, want ErrBadBlobKey", k, err)
			}
			if _, err := s.Get(ctx, k); !errors.Is(err, flexd.ErrBadBlobKey) {
				t.Errorf("Get(%q) error = %v, want ErrBadBlobKey", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, flexd.ErrBadBlobKey) {
				t.Errorf("Delete(%q) error = %v, want ErrBadBlobKey", k, err)
			}
		}
	})
	t.Run("VerifyCatchesCorruption", func(t *testing.T) {
		s := open(t)
		size, sum, err := s.Put(ctx, "k", bytes.NewReader([]byte("hello world")))
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]io.Reader{
			"flipped":   bytes.NewReader([]byte("hello World")),
			"truncated": bytes.NewReader([]byte("hello")),
			"longer":    bytes.NewReader([]byte("hello world!")),
		} {
			if _, err := io.Copy(io.Discard, flexd.VerifyBlob(r, size, sum)); !errors.Is(err, flexd.ErrBlobCorrupt) {
				t.Errorf("%s: VerifyBlob error = %v, want ErrBlobCorrupt", name, err)
			}
		}
	})
}

func read(t *testing.T, s flexd.BlobStore, key string) []byte {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
