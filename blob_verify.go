package flexd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

func newSHA256() hash.Hash { return sha256.New() }

type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want int64
	sum  string
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.n > v.want {
		v.err = fmt.Errorf("%w: more than %d bytes", ErrBlobCorrupt, v.want)
		return 0, v.err
	}
	if err == io.EOF {
		got := hex.EncodeToString(v.h.Sum(nil))
		switch {
		case v.n != v.want:
			v.err = fmt.Errorf("%w: %d bytes, want %d", ErrBlobCorrupt, v.n, v.want)
		case got != v.sum:
			v.err = fmt.Errorf("%w: sha256 %s, want %s", ErrBlobCorrupt, got, v.sum)
		default:
			v.err = io.EOF
		}
		return n, v.err
	}
	if err != nil {
		v.err = err
	}
	return n, err
}
