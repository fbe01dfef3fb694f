package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeOnTakenPortWritesNothing: flexd binds before anything else, so
// on an address that is taken it fails without creating its data
// directory, a store, or an admin key file. Before, it migrated the store,
// wrote the admin key and started the job engine, then failed.
func TestServeOnTakenPortWritesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"FLEXD_LISTEN": taken.Addr().String(), "FLEXD_DATA_DIR": dir, "FLEXD_LOG_FORMAT": "json"}
	var logs bytes.Buffer
	err = Run(context.Background(), []string{"flexd", "serve"}, func(k string) string { return env[k] }, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("run on a taken port: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data directory was created (stat: %v); logs:\n%s", err, logs.String())
	}
}

// rawConn dials s and sends head (a request line and headers) and body.
func rawConn(t *testing.T, s *started, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+body); err != nil {
		t.Fatal(err)
	}
	return c
}

// slowHead is a request announcing a body it never finishes sending.
const slowHead = "POST /api/atlas/v2/groups HTTP/1.1\r\nHost: flexd\r\nAccept: " + accept +
	"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"

// TestSlowBodiesAreCutOff: a client trickling a body is disconnected once
// --read-body-timeout has passed since its headers came, however steadily it
// trickles. Before, there was no read timeout, and such clients held their
// connections as long as they liked.
func TestSlowBodiesAreCutOff(t *testing.T) {
	s := start(t, t.TempDir(), map[string]string{"FLEXD_READ_BODY_TIMEOUT": "300ms"})
	c := rawConn(t, s, slowHead, `{"name":`)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 20ms: never idle for long
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	// A guard only: the server must end the connection long before.
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server still holds a trickling client after 20s (body timeout 300ms)")
	}
}

// TestConnectionCap: beyond --max-connections, a connection is answered
// 503 in Atlas's shape and closed; once one closes, the next is served.
// Before, every connection was held, 2,300 slow clients included.
func TestConnectionCap(t *testing.T) {
	s := start(t, t.TempDir(), map[string]string{"FLEXD_MAX_CONNECTIONS": "3"})
	var held []net.Conn
	for range 3 {
		held = append(held, rawConn(t, s, slowHead, "{"))
	}
	c := rawConn(t, s, "GET /healthz HTTP/1.1\r\nHost: flexd\r\n\r\n", "")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("4th connection: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	var e struct{ ErrorCode string }
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/json" ||
		json.Unmarshal(body, &e) != nil || e.ErrorCode != "UNEXPECTED_ERROR" {
		t.Fatalf("4th connection: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	held[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served after one of 3 closed: %v", err)
		}
	}
}

// TestOversizedHeadersAnswerAtlasJSON: headers over net/http's limit (1 MB)
// are refused with a 431 in Atlas's error shape, as is a request line
// net/http cannot parse (400). Both were plain text before.
func TestOversizedHeadersAnswerAtlasJSON(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	for name, req := range map[string]string{
		"431": "GET /healthz HTTP/1.1\r\nHost: flexd\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n",
		"400": "GET /healthz HTTP/1.1 junk\r\nHost: flexd\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() { _, _ = io.WriteString(c, req) }() // the server stops reading at its limit
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			var e struct {
				Error     int
				ErrorCode string
			}
			if resp.Status[:3] != name || resp.Header.Get("Content-Type") != "application/json" ||
				json.Unmarshal(body, &e) != nil || e.Error != resp.StatusCode || e.ErrorCode != "UNEXPECTED_ERROR" {
				t.Errorf("%s %v %q", resp.Status, resp.Header, body)
			}
		})
	}
}

// TestRiverLogsAtDebug: River's routine lines ("Driver does not support
// listener", "Producer job counts") are DEBUG, not INFO. At INFO flexd
// shows none of them; at DEBUG they are there.
func TestRiverLogsAtDebug(t *testing.T) {
	riverLines := func(logs string) (info, debug int) {
		sc := bufio.NewScanner(strings.NewReader(logs))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Level, Component string }
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Component != "river" {
				continue
			}
			switch line.Level {
			case "INFO":
				info++
			case "DEBUG":
				debug++
			}
		}
		return info, debug
	}
	s := start(t, t.TempDir(), nil)
	s.stop(t)
	if info, _ := riverLines(s.logs.String()); info > 0 {
		t.Errorf("%d River lines at INFO:\n%s", info, s.logs.String())
	}
	d := start(t, t.TempDir(), map[string]string{"FLEXD_LOG_LEVEL": "debug"})
	d.stop(t)
	if info, debug := riverLines(d.logs.String()); info > 0 || debug == 0 {
		t.Errorf("at DEBUG: %d River lines at INFO, %d at DEBUG", info, debug)
	}
}
