package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flexd/flexd/atlasapi"
)

// httpConfig holds what bounds the HTTP server's exposure to slow or many
// clients.
type httpConfig struct {
	readHeaderTimeout time.Duration
	readBodyTimeout   time.Duration
	idleTimeout       time.Duration
	maxConns          int
}

func (hc *httpConfig) register(ef *envFlags) {
	ef.duration(&hc.readHeaderTimeout, "read-header-timeout", "FLEXD_READ_HEADER_TIMEOUT", 10*time.Second,
		"how long a client may take to send a request's headers")
	ef.duration(&hc.readBodyTimeout, "read-body-timeout", "FLEXD_READ_BODY_TIMEOUT", 30*time.Second,
		"how long a client may take to send a request's body, once its headers are in")
	ef.duration(&hc.idleTimeout, "idle-timeout", "FLEXD_IDLE_TIMEOUT", 120*time.Second,
		"how long an idle keep-alive connection is kept open")
	ef.int(&hc.maxConns, "max-connections", "FLEXD_MAX_CONNECTIONS", 1024,
		"open client connections served at once; one more is answered 503 and closed")
}

func (hc *httpConfig) validate() error {
	if hc.readHeaderTimeout <= 0 || hc.readBodyTimeout <= 0 || hc.idleTimeout <= 0 {
		return fmt.Errorf("%w: --read-header-timeout, --read-body-timeout and --idle-timeout must be positive", errUsage)
	}
	if hc.maxConns < 1 {
		return fmt.Errorf("%w: --max-connections must be at least 1", errUsage)
	}
	return nil
}

// server returns the HTTP server for handler with these bounds.
//
// The body's bound is set per request rather than as http.Server's
// ReadTimeout: that one stays on the connection while the handler runs,
// and net/http's background read then times out and cancels the request's
// context, so a handler working longer than it (a clock advance running a
// long drill, a large download) would be cut short.
func (hc *httpConfig) server(handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           hc.boundBody(handler),
		ReadHeaderTimeout: hc.readHeaderTimeout,
		IdleTimeout:       hc.idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// boundBody gives a request with a body readBodyTimeout to send it: the
// connection's read deadline, lifted as soon as the body has been read.
func (hc *httpConfig) boundBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(hc.readBodyTimeout)); err == nil {
			b := &boundedBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
			r.Body = b
		}
		next.ServeHTTP(w, r)
	})
}

// boundedBody lifts the read deadline once the body is read, so that
// nothing after the body is bounded by it: net/http's background read,
// which starts there, would otherwise time out and cancel the request. A
// body left unread keeps the deadline, which then bounds net/http's
// discarding of it after the handler.
type boundedBody struct {
	io.ReadCloser
	once sync.Once
	lift func()
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.lift)
	}
	return n, err
}

// listener wraps ln so that at most max connections are open at once, and
// so that the errors net/http answers by itself, before any handler runs,
// are Atlas-shaped.
func (hc *httpConfig) listener(ln net.Listener) net.Listener {
	return &boundedListener{Listener: ln, max: int64(hc.maxConns), busy: atlasapi.ProtocolError(http.StatusServiceUnavailable)}
}

// boundedListener hands out at most max open connections. One more is
// answered 503 (Atlas JSON, Connection: close) and closed, rather than
// queued: a client gets an answer it can retry on, and a flood of idle
// connections holds at most max goroutines and buffers.
type boundedListener struct {
	net.Listener
	max  int64
	open atomic.Int64
	busy []byte
}

func (l *boundedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			go refuse(c, l.busy)
			continue
		}
		return &atlasConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
	}
}

// refuseTimeout bounds the time spent on a connection refused for being
// one too many.
const refuseTimeout = time.Second

// refuse writes answer to c and closes it. The request is drained briefly
// first: closing a socket with unread data resets it, and the client would
// see the reset instead of the 503.
func refuse(c net.Conn, answer []byte) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseTimeout))
	if _, err := c.Write(answer); err != nil {
		return
	}
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	var buf [4096]byte
	for n := 0; n < 1<<16; {
		m, err := c.Read(buf[:])
		n += m
		if err != nil {
			return
		}
	}
}

// atlasConn is a served connection: it releases its slot once closed, and
// turns the plain-text errors net/http writes by itself (431 for headers
// over MaxHeaderBytes, 400 for a malformed request) into Atlas's error
// shape. Those answers are written straight to the connection in one Write,
// always with exactly netHTTPErrorHeaders after the status line, which no
// handler's response has (each carries a Date header), so they are told
// apart exactly.
type atlasConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// netHTTPErrorHeaders follows the status line of net/http's own error
// answers (net/http's server.go, errorHeaders).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *atlasConn) Write(p []byte) (int, error) {
	if status, ok := netHTTPError(p); ok {
		if _, err := c.Conn.Write(atlasapi.ProtocolError(status)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// netHTTPError reports whether p is one of net/http's own error answers,
// and its status.
func netHTTPError(p []byte) (int, bool) {
	if len(p) < 13 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || p[12] != ' ' && p[12] != ':' {
		return 0, false
	}
	end := bytes.Index(p, []byte("\r\n"))
	if end < 0 || !bytes.HasPrefix(p[end:], []byte(netHTTPErrorHeaders)) {
		return 0, false
	}
	status := 0
	for _, d := range p[9:12] {
		if d < '0' || d > '9' {
			return 0, false
		}
		status = status*10 + int(d-'0')
	}
	return status, status >= 400
}

// CloseWrite lets net/http half-close the connection after an error
// answer, as it does on a bare TCP connection.
func (c *atlasConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *atlasConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
