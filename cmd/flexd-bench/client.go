package main

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection speaking just enough of the
// protocol for the benchmark. net/http's client costs several times what a
// small server costs per request; on a 2-core machine the load generator
// would then measure itself, not the server. This one writes pre-built
// request bytes and reads a response into a reused buffer.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	body []byte
}

// response is what a request returned: status, the few headers the
// benchmark reads, and the body (valid until the next request on the conn).
type response struct {
	status      int
	contentType string
	challenge   string // WWW-Authenticate, first one
	body        []byte
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{addr: addr, c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// request builds the bytes of one request. body may be nil.
func request(method, target, host string, headers map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// do sends req and reads the response. A connection the server closed is
// redialled once, as a keep-alive client does.
func (c *conn) do(req []byte, resp *response) error {
	err := c.roundTrip(req, resp)
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)) {
		nc, derr := dial(c.addr)
		if derr != nil {
			return err
		}
		_ = c.c.Close()
		c.c, c.r = nc.c, nc.r
		return c.roundTrip(req, resp)
	}
	return err
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func (c *conn) roundTrip(req []byte, resp *response) error {
	if _, err := c.c.Write(req); err != nil {
		return err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return fmt.Errorf("bad status line %q", line)
	}
	resp.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("bad status line %q", line)
	}
	resp.contentType, resp.challenge = "", ""
	length, chunked, closing := -1, false, false
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch strings.ToLower(string(k)) {
		case "content-length":
			length, _ = strconv.Atoi(string(v))
		case "transfer-encoding":
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case "content-type":
			resp.contentType = string(v)
		case "www-authenticate":
			if resp.challenge == "" && len(v) > 7 && bytes.EqualFold(v[:7], []byte("Digest ")) {
				resp.challenge = string(v)
			}
		case "connection":
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunked()
	case length >= 0:
		c.body = grow(c.body, length)
		_, err = io.ReadFull(c.r, c.body)
	}
	resp.body = c.body
	if err == nil && closing {
		err = c.redial()
	}
	return err
}

func (c *conn) redial() error {
	nc, err := dial(c.addr)
	if err != nil {
		return err
	}
	_ = c.c.Close()
	c.c, c.r = nc.c, nc.r
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func (c *conn) readChunked() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, then the final CRLF
				line, err = c.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = append(c.body, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, c.body[start:]); err != nil {
			return err
		}
		if _, err := c.r.Discard(2); err != nil {
			return err
		}
	}
}

// digestAuth answers a Digest challenge (RFC 7616, qop=auth) the way
// github.com/mongodb-forks/digest does for the Atlas SDK: a fresh cnonce and
// nc=00000001 for every challenge, since the SDK repeats the handshake on
// every call.
func digestAuth(challenge, method, uri, user, password string) (string, error) {
	scheme, rest, _ := strings.Cut(challenge, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return "", fmt.Errorf("not a Digest challenge: %q", challenge)
	}
	p := map[string]string{}
	for _, part := range splitParams(rest) {
		k, v, _ := strings.Cut(part, "=")
		p[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	alg := p["algorithm"]
	var h func() hash.Hash
	switch strings.ToUpper(alg) {
	case "", "MD5":
		h = md5.New
	case "SHA-256":
		h = sha256.New
	default:
		return "", fmt.Errorf("digest algorithm %q", alg)
	}
	sum := func(s string) string {
		x := h()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	var cb [8]byte
	_, _ = rand.Read(cb[:])
	cnonce, nc := hex.EncodeToString(cb[:]), "00000001"
	ha1 := sum(user + ":" + p["realm"] + ":" + password)
	ha2 := sum(method + ":" + uri)
	resp := sum(ha1 + ":" + p["nonce"] + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	out := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, p["realm"], p["nonce"], uri, nc, cnonce, resp)
	if alg != "" {
		out += ", algorithm=" + alg
	}
	if o, ok := p["opaque"]; ok {
		out += fmt.Sprintf(`, opaque="%s"`, o)
	}
	return out, nil
}

// splitParams splits a challenge's parameters on commas outside quotes.
func splitParams(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
