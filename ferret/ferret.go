// Package ferret runs one embedded FerretDB (v1, sqlite handler) per Flex
// cluster, each with its data in its own directory, opened on the first
// connection and closed after an idle period, so a thousand idle clusters
// cost a directory each and nothing else.
//
// Layout under the manager's directory:
//
//	<id>/CURRENT        name of the live generation, replaced atomically
//	<id>/gen-000001/    FerretDB's SQLite files (one per database)
//
// A restore loads a new generation beside the live one (Backend.Stage) and
// switches CURRENT in one rename (Staging.Commit): a crash or failure at any
// point leaves either the old generation or the new one live, never a mix;
// Open sweeps generations CURRENT does not name.
//
// Each instance listens on a Unix socket in a private (0700) directory; only
// flexd's wire front and flexd itself connect, through Backend.DialContext.
package ferret

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ErrClosed is returned by a Backend that was stopped or deleted.
var ErrClosed = errors.New("ferret: backend closed")

// Config configures a Manager.
type Config struct {
	// Dir holds one subdirectory per cluster.
	Dir string
	// IdleTimeout is how long an instance with no connection stays open;
	// zero means one minute.
	IdleTimeout time.Duration
	// Logger receives FerretDB's warnings and errors (its info and debug
	// lines, several per instance opened or closed, are dropped); nil
	// discards everything.
	Logger *slog.Logger
}

// Manager owns the embedded backends of every cluster on this host.
type Manager struct {
	dir     string
	sockDir string
	idle    time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	backends map[string]*Backend
	running  map[*instance]struct{} // every instance, including copies and stagings
	seq      int
	closed   bool
}

// New returns a Manager keeping cluster data under cfg.Dir.
func New(cfg Config) (*Manager, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("ferret: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("ferret: %w", err)
	}
	// FerretDB hands SQLite a "file:" URI built from the path unescaped.
	if strings.ContainsAny(dir, "?#%") {
		return nil, fmt.Errorf("ferret: data directory %q: FerretDB cannot use a path containing '?', '#' or '%%'", dir)
	}
	// Socket paths are limited to ~100 bytes, so they live in a short
	// private temporary directory rather than under a possibly deep data dir.
	sockDir, err := os.MkdirTemp("", "flexd-fdb-")
	if err != nil {
		return nil, fmt.Errorf("ferret: %w", err)
	}
	idle := cfg.IdleTimeout
	if idle == 0 {
		idle = time.Minute
	}
	log := slog.New(slog.DiscardHandler)
	if cfg.Logger != nil {
		log = slog.New(warnAndAbove{cfg.Logger.Handler()})
	}
	return &Manager{dir: dir, sockDir: sockDir, idle: idle, log: log, backends: map[string]*Backend{}, running: map[*instance]struct{}{}}, nil
}

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Backend returns the backend of cluster id, creating its (empty) data
// directory the first time. It does not start FerretDB: the first
// DialContext does.
func (m *Manager) Backend(id string) (*Backend, error) {
	if !validID.MatchString(id) {
		return nil, fmt.Errorf("ferret: invalid cluster id %q", id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if b := m.backends[id]; b != nil {
		return b, nil
	}
	b := &Backend{m: m, id: id, dir: filepath.Join(m.dir, id)}
	if err := b.init(); err != nil {
		return nil, err
	}
	m.backends[id] = b
	return b, nil
}

// Stop closes cluster id's instance and connections; its data stays. A
// later Backend(id) serves it again.
func (m *Manager) Stop(id string) {
	m.mu.Lock()
	b := m.backends[id]
	delete(m.backends, id)
	m.mu.Unlock()
	if b != nil {
		b.close()
	}
}

// Delete stops cluster id and removes its data.
func (m *Manager) Delete(id string) error {
	if !validID.MatchString(id) {
		return fmt.Errorf("ferret: invalid cluster id %q", id)
	}
	m.Stop(id)
	if err := os.RemoveAll(filepath.Join(m.dir, id)); err != nil {
		return fmt.Errorf("ferret: delete %s: %w", id, err)
	}
	return nil
}

// Clusters lists the cluster ids that have data on disk, for the start-up
// sweep that deletes data no cluster record owns.
func (m *Manager) Clusters() ([]string, error) {
	ents, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("ferret: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && validID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Close stops every backend; the data stays.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	bs := m.backends
	m.backends = map[string]*Backend{}
	m.mu.Unlock()
	for _, b := range bs {
		b.close()
	}
	m.mu.Lock()
	var rest []*instance
	for in := range m.running {
		rest = append(rest, in)
	}
	m.mu.Unlock()
	for _, in := range rest { // copies and stagings a caller did not end
		in.stop()
	}
	os.RemoveAll(m.sockDir)
}

func (m *Manager) socket() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return filepath.Join(m.sockDir, strconv.Itoa(m.seq)+".sock")
}

// warnAndAbove passes on only warnings and errors.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(a []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(a)}
}

func (h warnAndAbove) WithGroup(n string) slog.Handler { return warnAndAbove{h.Handler.WithGroup(n)} }

// newMu serialises ferretdb.New, which writes package-level state.
var newMu sync.Mutex

// instance is one running FerretDB.
type instance struct {
	m      *Manager
	sock   string
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// dial connects to the instance; stop closes every such connection first,
// as FerretDB would otherwise give open connections seconds to leave.
func (in *instance) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", in.sock)
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.conns == nil {
		nc.Close()
		return nil, ErrClosed
	}
	in.conns[nc] = struct{}{}
	return &trackedConn{Conn: nc, in: in}, nil
}

type trackedConn struct {
	net.Conn
	in *instance
}

func (c *trackedConn) Close() error {
	c.in.mu.Lock()
	delete(c.in.conns, c.Conn)
	c.in.mu.Unlock()
	return c.Conn.Close()
}

func (m *Manager) start(dataDir string) (*instance, error) {
	sock := m.socket()
	u := url.URL{Scheme: "file", Opaque: dataDir + "/"}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Handler:   "sqlite",
		SQLiteURL: u.String(),
		Logger:    m.log,
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("ferret: start %s: %w", dataDir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{m: m, sock: sock, cancel: cancel, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	m.mu.Lock()
	m.running[in] = struct{}{}
	m.mu.Unlock()
	go func() {
		defer close(in.done)
		f.Run(ctx)
	}()
	return in, nil
}

func (in *instance) stop() {
	in.m.mu.Lock()
	delete(in.m.running, in)
	in.m.mu.Unlock()
	in.mu.Lock()
	for c := range in.conns {
		c.Close()
	}
	in.conns = nil
	in.mu.Unlock()
	in.cancel()
	<-in.done
	os.Remove(in.sock)
}

// Backend is one cluster's data and, while in use, its FerretDB instance.
type Backend struct {
	m   *Manager
	id  string
	dir string

	mu      sync.Mutex
	closed  bool
	gen     int
	inst    *instance
	conns   map[*conn]struct{}
	idleGen int // bumped on every change that invalidates a pending idle close
	staging bool
}

// ID is the cluster id.
func (b *Backend) ID() string { return b.id }

func (b *Backend) genDir(gen int) string { return filepath.Join(b.dir, fmt.Sprintf("gen-%06d", gen)) }

func (b *Backend) init() error {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return fmt.Errorf("ferret: %w", err)
	}
	cur, err := os.ReadFile(filepath.Join(b.dir, "CURRENT"))
	switch {
	case errors.Is(err, os.ErrNotExist) || err == nil && len(bytes.TrimSpace(cur)) == 0:
		// Missing, or empty: the first, unsynced CURRENT (below) that a
		// crash caught before its bytes reached the disk. Either way the
		// live generation is the first one.
		b.gen = 1
		if err := os.MkdirAll(b.genDir(1), 0o700); err != nil {
			return fmt.Errorf("ferret: %w", err)
		}
		// Not synced: a CURRENT lost in a crash reads as missing, which
		// is generation 1 again, this same directory. (Two fsyncs per new
		// cluster made serving a thousand clusters never served before,
		// e.g. after an upgrade, take seconds.)
		if err := writeCurrent(b.dir, 1, false); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("ferret: %w", err)
	default:
		g, err := strconv.Atoi(strings.TrimSpace(string(cur)))
		if err != nil || g < 1 {
			return fmt.Errorf("ferret: %s: corrupt CURRENT %q", b.id, cur)
		}
		b.gen = g
	}
	// Sweep generations a crashed restore left behind, and snapshot copies.
	ents, _ := os.ReadDir(b.dir)
	for _, e := range ents {
		stale := strings.HasPrefix(e.Name(), "gen-") && e.Name() != filepath.Base(b.genDir(b.gen)) || strings.HasPrefix(e.Name(), "copy-")
		if e.IsDir() && stale {
			os.RemoveAll(filepath.Join(b.dir, e.Name()))
		}
	}
	b.conns = map[*conn]struct{}{}
	return nil
}

// writeCurrent switches the live generation atomically, and durably when
// sync is set.
func writeCurrent(dir string, gen int, sync bool) error {
	tmp := filepath.Join(dir, "CURRENT.tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("ferret: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%d\n", gen)
	var serr error
	if sync {
		serr = f.Sync()
	}
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("ferret: write CURRENT: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "CURRENT")); err != nil {
		return fmt.Errorf("ferret: write CURRENT: %w", err)
	}
	if !sync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ferret: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// DataDir is the directory of the live generation's SQLite files (for
// measuring and for tests; do not write to it).
func (b *Backend) DataDir() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.genDir(b.gen)
}

// Running reports whether a FerretDB instance is open.
func (b *Backend) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inst != nil
}

// DialContext opens a connection to the cluster's FerretDB, starting it if
// it is not running. Its signature is that of a net.Dialer, so a mongo
// driver can use it (options.Client().SetDialer): network and addr are
// ignored.
func (b *Backend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if b.inst == nil {
		in, err := b.m.start(b.genDir(b.gen))
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
		b.inst = in
	}
	in := b.inst
	c := &conn{b: b, in: in}
	b.conns[c] = struct{}{}
	b.idleGen++
	b.mu.Unlock()

	nc, err := in.dial(ctx)
	if err != nil {
		c.release()
		return nil, fmt.Errorf("ferret: dial %s: %w", b.id, err)
	}
	c.Conn = nc
	return c, nil
}

// conn counts towards its instance's activity until closed.
type conn struct {
	net.Conn
	b    *Backend
	in   *instance
	once sync.Once
}

func (c *conn) Close() error {
	var err error
	if c.Conn != nil {
		err = c.Conn.Close()
	}
	c.release()
	return err
}

func (c *conn) release() {
	c.once.Do(func() {
		b := c.b
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.conns, c)
		if len(b.conns) == 0 && b.inst != nil && !b.closed {
			b.idleGen++
			g := b.idleGen
			time.AfterFunc(b.m.idle, func() { b.closeIfIdle(g) })
		}
	})
}

func (b *Backend) closeIfIdle(g int) {
	b.mu.Lock()
	if b.idleGen != g || len(b.conns) != 0 || b.inst == nil {
		b.mu.Unlock()
		return
	}
	in := b.inst
	b.inst = nil
	b.mu.Unlock()
	in.stop()
}

// stopInstanceLocked detaches the instance for the caller to stop (which
// closes its connections); callers hold b.mu.
func (b *Backend) stopInstanceLocked() *instance {
	in := b.inst
	b.inst = nil
	b.idleGen++
	return in
}

func (b *Backend) close() {
	b.mu.Lock()
	b.closed = true
	in := b.stopInstanceLocked()
	b.mu.Unlock()
	if in != nil {
		in.stop()
	}
}

// Staging is a new generation of a backend's data being loaded beside the
// live one. Exactly one of Commit or Abort ends it.
type Staging struct {
	b    *Backend
	gen  int
	inst *instance
	mu   sync.Mutex
	done bool
}

// Stage starts an empty generation with its own private FerretDB instance,
// for a restore to load through DialContext. Only one staging may exist per
// backend at a time.
func (b *Backend) Stage(ctx context.Context) (*Staging, error) {
	s, err := b.StageFiles()
	if err != nil {
		return nil, err
	}
	in, err := b.m.start(s.Dir())
	if err != nil {
		s.Abort()
		return nil, err
	}
	s.inst = in
	return s, nil
}

// StageFiles starts an empty generation without an instance: the caller
// writes the generation's SQLite files into Dir, then Commits (or Aborts).
// Only one staging may exist per backend at a time.
func (b *Backend) StageFiles() (*Staging, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if b.staging {
		b.mu.Unlock()
		return nil, fmt.Errorf("ferret: %s: a restore is already staging", b.id)
	}
	b.staging = true
	gen := b.gen + 1
	b.mu.Unlock()
	s := &Staging{b: b, gen: gen}
	dir := b.genDir(gen)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.Abort()
		return nil, fmt.Errorf("ferret: stage: %w", err)
	}
	return s, nil
}

// Dir is the staged generation's directory.
func (s *Staging) Dir() string { return s.b.genDir(s.gen) }

// DialContext connects to the staging instance (see Backend.DialContext).
func (s *Staging) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return s.inst.dial(ctx)
}

// Commit makes the staged generation the live one: it stops the staging
// instance, closes the live instance and its connections (callers quiesce
// their clients first), switches CURRENT durably and removes the old
// generation. The next DialContext serves the new data.
func (s *Staging) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("ferret: staging already ended")
	}
	s.done = true
	if s.inst != nil {
		s.inst.stop()
	}
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.staging = false
	if b.closed {
		os.RemoveAll(b.genDir(s.gen))
		return ErrClosed
	}
	in := b.stopInstanceLocked()
	if in != nil {
		in.stop()
	}
	if err := writeCurrent(b.dir, s.gen, true); err != nil {
		os.RemoveAll(b.genDir(s.gen))
		return err
	}
	old := b.gen
	b.gen = s.gen
	os.RemoveAll(b.genDir(old))
	return nil
}

// Abort discards the staged generation; the live data is untouched.
func (s *Staging) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if s.inst != nil {
		s.inst.stop()
	}
	os.RemoveAll(s.b.genDir(s.gen))
	s.b.mu.Lock()
	s.b.staging = false
	s.b.mu.Unlock()
}
