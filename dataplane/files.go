package dataplane

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongodump"
)

// The fast path: a snapshot artifact that is the cluster's SQLite files
// themselves (one per database, copied with its -wal under a held SQLite
// write lock while writes are held, the -wal folded in after), as a plain
// tar. Taking it is a file copy and a tar write; restoring it is a tar
// extract into a staging generation and a swap, with no document going
// through FerretDB's wire protocol. The mongodump-layout .tgz a download
// serves is built from it on demand (DumpFiles), by a private FerretDB
// over an extracted copy.

// SnapshotFiles writes cluster id's data files, consistent at one instant,
// to w as a tar: writes through the front are held only while the files
// are copied. A write acknowledged before SnapshotFiles was called is in
// it; a write command is wholly in it or wholly not. The cluster must be
// served (ErrNotServing).
func (p *Plane) SnapshotFiles(ctx context.Context, id string, w io.Writer) error {
	ep, err := p.endpoint(id)
	if err != nil {
		return err
	}
	b, err := p.ferret.Backend(id)
	if err != nil {
		return err
	}
	resume, err := ep.front.PauseWrites(ctx)
	if err != nil {
		return err
	}
	var progress func(string)
	if f := p.cfg.SnapshotProgress; f != nil {
		progress = func(file string) { f(id, file) }
	}
	paused := time.Now()
	cp, err := b.CopyFiles(ctx, progress)
	resume()
	if f := p.cfg.SnapshotPaused; f != nil {
		f(id, time.Since(paused))
	}
	if err != nil {
		return err
	}
	defer cp.Close()
	if err := cp.Settle(ctx); err != nil {
		return err
	}
	return tarFiles(ctx, cp.Dir(), w)
}

// tarFiles writes dir's .sqlite files to w as a tar, in name order.
func tarFiles(ctx context.Context, dir string, w io.Writer) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".sqlite") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	tw := tar.NewWriter(w)
	for _, name := range names {
		if err := tarFile(ctx, tw, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return tw.Close()
}

func tarFile(ctx context.Context, tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.Base(path), Mode: 0o600, Size: st.Size(), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.CopyBuffer(tw, flexd.ContextReader(ctx, f), make([]byte, copyBuf))
	return err
}

// copyBuf is the buffer of the copies a snapshot streams: large enough
// that the per-call costs (syscalls, the pipe's hand-over, SHA-256's
// set-up) vanish next to the bytes.
const copyBuf = 1 << 20

// errBadFiles is a files tar holding something other than database files.
var errBadFiles = errors.New("dataplane: not a snapshot of database files")

// extractFiles writes the database files of a SnapshotFiles tar into dir
// (which must be empty), each fsynced, and then reads r to its end, so a
// VerifyBlob reader under it checks the checksum before the caller uses
// the files.
func extractFiles(ctx context.Context, r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg || name != filepath.Base(name) || !strings.HasSuffix(name, ".sqlite") || strings.HasPrefix(name, ".") {
			return fmt.Errorf("%w: entry %q", errBadFiles, name)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, flexd.ContextReader(ctx, tr))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RestoreFiles replaces all of cluster id's data with the files of a
// SnapshotFiles tar read from r (wrap r in flexd.VerifyBlob): they are
// extracted into a staging generation while the cluster refuses writes
// (reads go on), and swapped in, with every request held for the instant
// of the swap, only once all of r has been read and verified. On any
// failure the live data is untouched. The target must be served.
func (p *Plane) RestoreFiles(ctx context.Context, id string, r io.Reader) error {
	if _, err := p.endpoint(id); err != nil {
		return err
	}
	b, err := p.ferret.Backend(id)
	if err != nil {
		return err
	}
	const holder = "dataplane.Restore"
	p.Fence(id, holder, "a restore is replacing this cluster's data")
	defer p.Unfence(id, holder)
	s, err := b.StageFiles()
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			s.Abort()
		}
	}()
	if err := extractFiles(ctx, r, s.Dir()); err != nil {
		return err
	}
	if ep, err := p.endpoint(id); err == nil { // else deleted meanwhile: Commit fails
		resume, err := ep.front.Quiesce(ctx)
		if err != nil {
			return err
		}
		defer resume()
	}
	committed = true
	return s.Commit()
}

// DumpFiles writes the data of a SnapshotFiles tar read from r to w in
// mongodump's layout (the tar package mongodump writes), through a private
// FerretDB over an extracted copy in TempDir.
func (p *Plane) DumpFiles(ctx context.Context, r io.Reader, w io.Writer) (flexd.DataStats, error) {
	dir, err := os.MkdirTemp(p.cfg.TempDir, "dump-")
	if err != nil {
		return flexd.DataStats{}, err
	}
	if err := extractFiles(ctx, r, dir); err != nil {
		os.RemoveAll(dir)
		return flexd.DataStats{}, err
	}
	cp, err := p.ferret.OpenFiles(dir)
	if err != nil {
		os.RemoveAll(dir)
		return flexd.DataStats{}, err
	}
	defer cp.Close()
	c, err := client(cp)
	if err != nil {
		return flexd.DataStats{}, err
	}
	defer c.Disconnect(context.Background())
	m, err := mongodump.Dump(ctx, c, w, mongodump.DumpOptions{TempDir: p.cfg.TempDir, Source: "snapshot"})
	if err != nil {
		return flexd.DataStats{}, err
	}
	return stats(m), nil
}

// SnapshotFilesToBlob streams cluster id's SnapshotFiles into store under
// key and returns the size and SHA-256 to record. On failure nothing new
// is left under key.
func SnapshotFilesToBlob(ctx context.Context, p *Plane, store flexd.BlobStore, id, key string) (size int64, sha256 string, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := p.SnapshotFiles(ctx, id, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	size, sha256, err = store.Put(ctx, key, pr)
	pr.CloseWithError(err)
	if serr := <-done; serr != nil {
		if err == nil {
			store.Delete(context.Background(), key)
		}
		return 0, "", fmt.Errorf("dataplane: snapshot %s: %w", id, serr)
	}
	return size, sha256, err
}

// RestoreFilesFromBlob restores cluster id from the SnapshotFiles artifact
// under key, verified against its recorded size and SHA-256 before the
// swap.
func RestoreFilesFromBlob(ctx context.Context, p *Plane, store flexd.BlobStore, id, key string, size int64, sha256 string) error {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("dataplane: restore %s: artifact %s: %w", id, key, err)
	}
	defer rc.Close()
	return p.RestoreFiles(ctx, id, flexd.VerifyBlob(rc, size, sha256))
}

// DumpFilesToBlob builds the gzipped mongodump tar of the SnapshotFiles
// artifact under key (verified as it is read) into store under dumpKey,
// and returns its size and SHA-256.
func DumpFilesToBlob(ctx context.Context, p *Plane, store flexd.BlobStore, key string, size int64, sha256, dumpKey string) (int64, string, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		_, err := p.DumpFiles(ctx, flexd.VerifyBlob(rc, size, sha256), zw)
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	n, sum, err := store.Put(ctx, dumpKey, pr)
	pr.CloseWithError(err)
	if derr := <-done; derr != nil {
		if err == nil {
			store.Delete(context.Background(), dumpKey)
		}
		return 0, "", derr
	}
	return n, sum, err
}
