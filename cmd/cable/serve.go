package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	cablehttp "github.com/cable-archive/cable/http"
	"github.com/cable-archive/cable/nats"
	"github.com/cable-archive/cable/seal"
)

// nodeConfig is what a node is started with.
type nodeConfig struct {
	Data     string
	Addr     string
	Demo     bool
	Postgres string
	Stations []string
	NATSURL  string
	// NATSListen exposes the embedded NATS server for leaf-node
	// connections from posts and relays; Hub joins a hub as a leaf node.
	NATSListen string
	Hub        string
	// NATSClientListen exposes the embedded server to NATS clients.
	NATSClientListen string
	// NATSMaxBytes is the transport store's disk budget; 0 is unlimited.
	NATSMaxBytes int64
	// NATSNoSync lets JetStream acknowledge custody before its files are
	// synced: faster, and a power loss can lose what was acknowledged.
	NATSNoSync bool
	// MaxMessage is the channel's message limit; longer cables go in
	// sections. 0: the transport's default.
	MaxMessage int
	// SectionTimeout overrides how long a cable's sections are held
	// waiting for the rest (tests).
	SectionTimeout time.Duration
	// Now is the message centre's clock (tests); time.Now when nil.
	Now func() time.Time
	// WatchInterval overrides the speed-of-service watch's period.
	WatchInterval time.Duration
	TLSCert       string
	TLSKey        string
	Logger        *slog.Logger
}

// node is one running process: records, transport, message centre and
// the HTTP server.
type node struct {
	cfg       nodeConfig
	dir       *cable.Directory
	records   cable.Records
	transport *nats.Transport
	sealer    *seal.Keyrings
	centre    *centre.Centre
	metrics   *centre.Metrics
	server    *http.Server
	listener  net.Listener
	// URL is the address the web UI and API answer on.
	URL string
	// DemoPasswords holds the demo users' passwords with --demo.
	DemoPasswords map[string]string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	runErr chan error
	// unlock releases the data directory (lockDataDir).
	unlock func() error
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stdout, stderr)
	var cfg nodeConfig
	var stations, logLevel string
	fs.StringVar(&cfg.Data, "data", "./cable-data", "data `directory`: station directory, routing rules, records, transport store")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "`host:port` for the web UI and the JSON API")
	fs.BoolVar(&cfg.Demo, "demo", false, "seed demo offices, users, routing rules and traffic, and print the users' sign-in details")
	fs.StringVar(&cfg.Postgres, "postgres", "", "keep records in PostgreSQL at this `DSN` instead of the data directory's SQLite file")
	fs.StringVar(&stations, "station", "", "comma-separated `codes` of the stations this node hosts (default: every station of the directory)")
	fs.StringVar(&cfg.NATSURL, "nats", "", "connect to an external NATS server at this `URL` instead of embedding one")
	fs.StringVar(&cfg.NATSListen, "nats-listen", "", "accept leaf-node connections from posts and relays on this `host:port` (a hub or relay)")
	fs.StringVar(&cfg.Hub, "hub", "", "join the hub or relay at this leaf-node `URL` (nats://host:port); the node keeps working while the link is down")
	fs.StringVar(&cfg.NATSClientListen, "nats-client-listen", "", "expose the embedded NATS server to NATS clients on this `host:port`")
	fs.Int64Var(&cfg.NATSMaxBytes, "nats-max-bytes", 0, "disk budget in `bytes` for cables in custody; beyond it custody is refused and senders wait (0: no limit)")
	fs.IntVar(&cfg.MaxMessage, "max-message", 0, "the channel's message limit in `bytes`; longer cables are cut into sections (default 8 MiB)")
	fs.BoolVar(&cfg.NATSNoSync, "nats-no-sync", false, "acknowledge custody before JetStream has synced it to disk (faster; a power loss may lose cables)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `file` (cookies become Secure)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key `file` for --tls-cert")
	fs.StringVar(&logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cable serve: unexpected arguments %q\n", fs.Args())
		return exitError{2}
	}
	cfg.Stations = splitList(stations)
	logger, err := newLogger(logLevel, os.Stderr)
	if err != nil {
		return err
	}
	cfg.Logger = logger

	n, err := startNode(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cable: serving stations %v at %s\n", n.cfg.Stations, n.URL)
	if cfg.Demo {
		printDemoUsers(stdout, n)
	}
	select {
	case <-ctx.Done():
	case err = <-n.runErr:
		logger.Error("message centre stopped", "err", err)
	}
	logger.Info("shutting down")
	if cerr := n.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// startNode opens everything and starts serving; Close stops it.
func startNode(ctx context.Context, cfg nodeConfig) (_ *node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log := cfg.Logger
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	d := dataDir{path: cfg.Data}
	if err := d.ensure(); err != nil {
		return nil, err
	}
	dir, err := d.directory()
	if err != nil {
		return nil, err
	}
	rules, err := d.rules(dir)
	if err != nil {
		return nil, err
	}
	if len(cfg.Stations) == 0 {
		for _, s := range dir.Stations() {
			cfg.Stations = append(cfg.Stations, s.Code)
		}
	}
	n := &node{cfg: cfg, dir: dir, runErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			n.closeBackends()
		}
	}()
	if n.unlock, err = lockDataDir(cfg.Data); err != nil {
		return nil, err
	}
	if n.records, err = d.openRecords(ctx, cfg.Postgres); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	routes, err := d.routes(dir, cfg.Demo, cfg.Stations)
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		if err := demoKeys(cfg.Data, cfg.Stations); err != nil {
			return nil, fmt.Errorf("demo keys: %w", err)
		}
	}
	if n.sealer, err = seal.OpenKeyrings(filepath.Join(cfg.Data, "keys"), cfg.Stations); err != nil {
		return nil, err
	}
	n.sealer.SetLogger(log.With("component", "keys"))
	// The centre is made after the transport, which calls it with alerts.
	var alerts atomic.Pointer[centre.Centre]
	nopts := nats.Options{
		StoreDir: filepath.Join(cfg.Data, jetstreamDir), URL: cfg.NATSURL,
		Listen: cfg.NATSClientListen, LeafListen: cfg.NATSListen, Hub: cfg.Hub,
		Stations: cfg.Stations, Routes: routes, MaxBytes: cfg.NATSMaxBytes, MaxPayload: int32(cfg.MaxMessage), SectionTimeout: cfg.SectionTimeout, SyncAlways: !cfg.NATSNoSync,
		ServerName: "cable-" + cfg.Stations[0], Logger: log.With("component", "nats"),
		OnAlert: func(station, reason string) {
			if c := alerts.Load(); c != nil {
				go c.Alert(context.Background(), station, reason) // the transport must not wait on the records
			}
		},
	}
	if cfg.NATSURL == "" && (cfg.Hub != "" || cfg.NATSListen != "") {
		// Each node of a network keeps its own JetStream domain.
		nopts.Domain = cfg.Stations[0]
	}
	if n.transport, err = nats.Open(ctx, nopts); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	metrics := centre.NewMetrics()
	n.metrics = metrics
	if n.centre, err = centre.New(centre.Config{
		Records: n.records, Transport: n.transport, Form: newForm(dir), Directory: dir, Rules: rules,
		Stations: cfg.Stations, Logger: log.With("component", "centre"), Metrics: metrics,
		Sealer: n.sealer, SectionLimit: n.transport.MaxPayload() - sealOverhead, WatchInterval: cfg.WatchInterval, Now: cfg.Now,
	}); err != nil {
		return nil, err
	}
	alerts.Store(n.centre)
	if cfg.Demo {
		if n.DemoPasswords, err = seedDemoUsers(ctx, d, n.records, dir, cfg.Stations); err != nil {
			return nil, fmt.Errorf("demo users: %w", err)
		}
	}

	importKey, err := d.secret("import.key")
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(metrics.Collectors()...)
	srv := &cablehttp.Server{
		Cables: n.centre, Users: n.centre, Form: newForm(dir), Directory: dir, Stations: cfg.Stations,
		Logger: log.With("component", "http"), Metrics: reg, SecureCookies: cfg.TLSCert != "",
		Health: n.health, Importers: importers{}, Archive: n.centre, ImportKey: importKey,
	}
	reg.MustRegister(srv.Collectors()...)

	// The files are looked at now, so that an edit made while the node
	// starts is not taken for the version in force.
	rulesW := newFileWatch(filepath.Join(d.path, rulesFile))
	routesW := newFileWatch(filepath.Join(d.path, routesFile))
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := n.centre.Run(runCtx); err != nil {
			n.runErr <- err
		}
	}()
	go func() {
		defer n.wg.Done()
		watchRules(runCtx, rulesW, d, dir, n.centre, log)
	}()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		watchKeys(runCtx, n.sealer, log)
	}()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		watchRoutes(runCtx, routesW, dir, 2*time.Second, n.transport.SetRoutes, log)
	}()

	if n.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		cancel()
		n.wg.Wait()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	scheme := "http"
	n.server = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCert != "" {
		scheme = "https"
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			cancel()
			n.wg.Wait()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		n.server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		n.listener = tls.NewListener(n.listener, n.server.TLSConfig)
	}
	n.URL = scheme + "://" + n.listener.Addr().String()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.server.Serve(n.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.runErr <- fmt.Errorf("http: %w", err)
		}
	}()
	if cfg.Demo {
		if err := seedDemoTraffic(ctx, n); err != nil {
			log.Error("demo traffic", "err", err)
		}
	}
	log.Info("node started", "url", n.URL, "stations", cfg.Stations, "data", cfg.Data)
	return n, nil
}

// sealOverhead is what sealing adds to a section's text: the envelope,
// the signed content header and age's header for one recipient, with room
// to spare.
const sealOverhead = 4 << 10

// watchKeys re-reads the trusted public identities now and then, so that
// an operator's `cable station trust` takes effect without a restart.
func watchKeys(ctx context.Context, k *seal.Keyrings, log *slog.Logger) {
	every(ctx, 5*time.Second, func() {
		if err := k.Reload(); err != nil {
			log.Error("station keys not reloaded", "err", describe(err))
		}
	})
}

// every runs f once each period until ctx is done.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f()
	}
}

// health reports whether the records answer.
func (n *node) health(ctx context.Context) error {
	_, _, err := n.records.FindCables(ctx, cable.CableFilter{MaxClassification: cable.Unclassified, Limit: 1})
	return err
}

// Close stops serving: it lets requests in flight finish, stops the
// message centre's loops, then closes the transport and the records.
func (n *node) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var errs []error
	if n.server != nil {
		errs = append(errs, n.server.Shutdown(ctx))
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	errs = append(errs, n.closeBackends())
	return errors.Join(errs...)
}

func (n *node) closeBackends() error {
	var errs []error
	if n.transport != nil {
		errs = append(errs, n.transport.Close())
	}
	if n.records != nil {
		errs = append(errs, n.records.Close())
	}
	if n.unlock != nil {
		errs = append(errs, n.unlock())
		n.unlock = nil
	}
	return errors.Join(errs...)
}

// fileWatch tells when an operator has edited a file: its modification
// time has moved.
type fileWatch struct {
	path string
	last time.Time // modification time of the version in force
}

// newFileWatch watches path as it is now.
func newFileWatch(path string) *fileWatch {
	w := &fileWatch{path: path}
	if fi, err := os.Stat(path); err == nil {
		w.last = fi.ModTime()
	}
	return w
}

// changed reports whether the file has changed since the last call (or
// newFileWatch). A file that cannot be read has not changed: the version
// in force stays.
func (w *fileWatch) changed() bool {
	fi, err := os.Stat(w.path)
	if err != nil || fi.ModTime().Equal(w.last) {
		return false
	}
	w.last = fi.ModTime()
	return true
}

// watchRoutes re-reads the routes file each period when it has changed,
// so that an operator's edit takes effect without a restart: set gets the
// routes of each good new version. A file with mistakes is refused, every
// mistake logged, and the routes in force stay; so they do if the file is
// removed.
func watchRoutes(ctx context.Context, w *fileWatch, dir *cable.Directory, period time.Duration, set func(*cable.Routes), log *slog.Logger) {
	every(ctx, period, func() {
		if !w.changed() {
			return
		}
		b, err := os.ReadFile(w.path)
		if err == nil {
			var r *cable.Routes
			if r, err = cable.ParseRoutes(b, dir); err == nil {
				set(r)
				log.Info("routes reloaded", "file", w.path)
				return
			}
		}
		log.Error("routes not reloaded; the routes in force stay", "file", w.path, "err", describe(err))
	})
}

// watchRules reloads the routing rules when an operator edits the file. A
// file with mistakes is refused, every problem logged, and the rules in
// force stay.
func watchRules(ctx context.Context, w *fileWatch, d dataDir, dir *cable.Directory, c *centre.Centre, log *slog.Logger) {
	every(ctx, 2*time.Second, func() {
		if !w.changed() {
			return
		}
		rr, err := d.rules(dir)
		if err != nil {
			log.Error("routing rules not reloaded; the rules in force stay", "err", describe(err))
			return
		}
		c.SetRules(rr)
		log.Info("routing rules reloaded", "file", w.path)
	})
}
