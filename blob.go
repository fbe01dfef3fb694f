package flexd

import (
	"context"
	"errors"
	"io"
)

// ErrBadBlobKey is returned (wrapped) for a key a BlobStore refuses: empty,
// absolute, holding "." or ".." segments, backslashes or control characters.
var ErrBadBlobKey = errors.New("invalid blob key")

// BlobStore keeps artifacts (snapshot dumps) as byte streams. The database
// keeps only their metadata: key, size and SHA-256, as Put returns them.
//
// Keys are slash-separated relative paths such as
// "snapshots/<clusterID>/<snapshotID>.tar"; each segment is made of letters,
// digits, '-', '_' and '.', and is neither "." nor "..".
type BlobStore interface {
	// Put stores everything r yields under key, replacing any earlier blob
	// with that key only once the new one is complete and durable: a reader
	// never sees a partial blob, and a failed or cancelled Put leaves the
	// old one (or none) in place. It returns the size and the hex SHA-256.
	Put(ctx context.Context, key string, r io.Reader) (size int64, sha256 string, err error)
	// Get opens the blob; ErrNotFound (wrapped) when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every key starting with prefix, sorted, for the start-up
	// sweep that deletes blobs no snapshot row names.
	List(ctx context.Context, prefix string) ([]string, error)
}

// ErrBlobCorrupt is returned (wrapped) by a reader from VerifyBlob whose
// stream does not have the recorded size or checksum.
var ErrBlobCorrupt = errors.New("blob does not match its recorded size and checksum")

// VerifyBlob wraps r so that reading it to the end checks the stream
// against the size and hex SHA-256 Put recorded. The check happens as the
// bytes go by: a mismatch surfaces as ErrBlobCorrupt in place of io.EOF (or
// as soon as more than size bytes arrive), so a consumer that treats every
// error as failure never acts on a corrupt artifact.
func VerifyBlob(r io.Reader, size int64, sha256Hex string) io.Reader {
	return &verifyingReader{r: r, want: size, sum: sha256Hex, h: newSHA256()}
}

// ContextReader is r stopping a long copy once ctx ends: each Read checks
// ctx first (a Read already blocked is not interrupted).
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
