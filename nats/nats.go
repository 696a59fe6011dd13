// Package nats carries cables between message centres over NATS
// JetStream, hop by hop, store and forward.
//
// # Topology
//
// Every node (one process) embeds its own NATS server with JetStream on
// local disk, in a JetStream domain of its own (Options.Domain), and hosts
// one or more stations (Options.Stations). Nodes are joined by leaf-node
// connections: a post joins its relay or headquarters as a leaf node
// (Options.Hub), a hub accepts leaf nodes (Options.LeafListen), and a relay
// does both. A leaf connection reconnects by itself once a second while its
// hub is down; each node keeps working on its own meanwhile. Options.URL
// instead connects to one external server (or cluster) that every node
// shares.
//
// # Subjects
//
// Each node has one stream (CABLES; subject prefix "cable") that captures
// cable.<S>.> for each station S it hosts, and nothing else: core subjects
// are shared across leaf connections, so capturing another node's subjects
// would take its traffic. With Options.URL the one shared stream captures
// cable.> and every node creates it identically.
//
//	cable.<AT>.in.<P>          in custody at AT, addressed to AT
//	cable.<AT>.fwd.<DEST>.<P>  in custody at AT, to be forwarded to DEST
//
// P is the precedence's prosign, Z, O, P or R. The body is the
// transmission's text (opaque bytes: the centre sends sealed cables) and
// the headers carry the routing envelope: cable id, kind (cable or
// receipt), origin, destination, precedence, SHA-256 of the body,
// queued-at, section and sections of a cable cut in parts, and the route
// (the stations that have held it, origin first). The message id,
// <cableid>.<kind>.<dest>.<section>.<holder>, makes a transmission sent
// twice within the duplicate window be stored once at each hop.
//
// # Batches
//
// JetStream syncs every message it stores, and every one it removes from
// a work queue, separately. So the transmissions of one Send, or of one
// forwarder's batch, that share a subject travel as one message, a batch
// (header Cable-Batch; see batch.go for the layout), each keeping its own
// envelope: a hop stores, syncs and removes a batch of hundreds of cables
// once. The hop that takes a batch from its stream reads it back into its
// transmissions, which are handled one by one as before; the batch leaves
// custody when the last of them has, and if any is handed back the whole
// batch is delivered again (the records store keeps each cable once). A
// batch sent again with the same contents has the same message id. Pending
// and Queued count messages, a batch once.
//
// # Custody
//
// Send stores a transmission in the node's own stream: on the in subject
// of its destination when this node hosts it, else on the fwd subject of
// its origin, so that a post takes cables while its link is down. Forward
// takes what is in custody at a station for others and publishes it on the
// subject of its next hop (Options.Routes): since only the next hop's
// stream captures that subject, the publish crosses the leaf connections
// and the acknowledgement comes back from the next hop's stream once it
// has stored (with SyncAlways, synced) the message. That acknowledgement
// is custody: only then does the forwarder acknowledge, and so remove, its
// own copy. Receive hands what is addressed to a station to its message
// centre and acknowledges it once the centre has stored it. The streams
// are work queues: a message stays on file until the consumer that takes
// it onwards acknowledges it. A refused publish (link down, next hop full)
// leaves the message where it is, to be tried again; nothing is dropped.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults.
const (
	// DefaultStream is the name of the stream that holds cables in transit.
	DefaultStream = "CABLES"
	// DefaultMaxPayload is the largest message (headers and text) the
	// transport carries: 8 MiB.
	DefaultMaxPayload = 8 << 20
	// DefaultDuplicateWindow is how long the stream remembers a message id
	// to store a transmission sent twice only once.
	DefaultDuplicateWindow = 10 * time.Minute
	// DefaultAckWait is how long a delivered, unacknowledged message waits
	// before it is delivered again.
	DefaultAckWait = 30 * time.Second
	// DefaultRetryDelay is how long a batch the handler refused waits
	// before it is delivered again.
	DefaultRetryDelay = 2 * time.Second
	// DefaultSectionTimeout is how long Receive holds the sections of a
	// cable while none of the missing ones arrives.
	DefaultSectionTimeout = time.Hour
	// BatchSize is the largest batch a lane takes from the server, and
	// the largest a forwarder hands on at once.
	BatchSize = 256
	// DefaultReceiveBatch is the default of Options.ReceiveBatch. A
	// receiving centre stores a batch in one transaction, so each batch
	// costs a commit, an fsync and a flush of the full-text index, and a
	// FLASH cable may wait behind one. At 128 a ROUTINE backlog drains
	// about a tenth faster than at 64 (BENCHMARKS.md, ninth session) and
	// FLASH waits about 50 ms for the batch ahead of it; at 256 the
	// backlog drains no faster, and FLASH waits twice as long.
	DefaultReceiveBatch = 128

	maxServerPayload = 64 << 20 // the NATS server's hard limit
	startTimeout     = 10 * time.Second
	drainTimeout     = 30 * time.Second
	publishTimeout   = 30 * time.Second
	stallWait        = 500 * time.Millisecond
	maxAckPending    = 4 * BatchSize
	// leafReconnect is how often a leaf node tries its hub again.
	leafReconnect = time.Second
	// alertEvery bounds how often one alert is raised again.
	alertEvery = time.Minute
	// fullAt is the share of Options.MaxBytes past which the node alerts.
	fullAt = 0.9
)

// alertCheckEvery is how often the stream's use of its disk budget is
// checked; a variable so that tests need not wait.
var alertCheckEvery = 5 * time.Second

// ErrClosed is returned by a Transport used after Close.
var ErrClosed = errors.New("nats: transport closed")

// ErrFull is in the chain of a Send error when the node's stream refused
// custody for lack of space (Options.MaxBytes): back-pressure, try later.
var ErrFull = errors.New("nats: no space to take custody")

// Options configures a Transport.
type Options struct {
	// StoreDir is where the embedded server keeps JetStream's files.
	// Required unless URL is set.
	StoreDir string
	// Listen is "host:port" to expose the embedded server to NATS clients
	// (port 0 picks a free port); "" keeps it in-process only.
	Listen string
	// LeafListen is "host:port" where the embedded server accepts
	// leaf-node connections from the nodes that use this one as their hub
	// (port 0 picks a free port; see LeafURL). Requires Domain.
	LeafListen string
	// Hub is "nats://host:port", a hub's LeafListen address: the embedded
	// server joins it as a leaf node, trying again every second while it is
	// down. Requires Domain. A relay has both Hub and LeafListen.
	Hub string
	// URL connects to an external NATS server instead of embedding one;
	// Hub and LeafListen are then invalid.
	URL string
	// Stations are the stations this node hosts. Required.
	Stations []string
	// Routes give the next hop towards each destination; nil sends every
	// transmission direct to its destination.
	Routes *cable.Routes
	// MaxBytes is the stream's disk budget: past it the stream refuses new
	// messages (custody refused, back-pressure to the previous hop) rather
	// than dropping any. 0 is unlimited.
	MaxBytes int64
	// OnAlert, when set, is called with an operator alert: custody refused
	// for lack of space (here or at a next hop), the stream past 90% of
	// MaxBytes, a next hop unreachable for over a minute. Each distinct
	// reason is raised at most once a minute per station. It must return
	// quickly.
	OnAlert func(station, reason string)
	// SectionTimeout is how long Receive holds some sections of a cable
	// while no other section arrives before it hands the cable over as
	// incomplete; default DefaultSectionTimeout.
	SectionTimeout time.Duration
	// Logger receives the transport's and the embedded server's logs.
	Logger *slog.Logger
	// MaxPayload bounds a message, headers included; default 8 MiB. With
	// URL, the server's own limit applies if it is lower. Give every node
	// of a network the same.
	MaxPayload int32
	// Domain is the JetStream domain: give each node of a leaf-node
	// network its own (the node's name). Required with Hub or LeafListen.
	Domain string
	// ServerName names the embedded server, default "cable-<domain>" (or
	// "cable"); give each node its own when servers are joined.
	ServerName string
	// Stream names the stream, default "CABLES"; every node of a network
	// uses the same. The subject prefix follows it: "cable" for CABLES,
	// "cable-<Stream>" for any other, so that several streams can share
	// one server without overlapping.
	Stream string
	// SyncAlways makes the embedded server fsync every write before
	// acknowledging it: custody survives a power loss, at a large cost in
	// throughput. By default writes reach the operating system at once
	// and the disk within two minutes, which survives a process crash.
	SyncAlways bool
	// DuplicateWindow overrides DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	// AckWait overrides DefaultAckWait. A batch in a Receive handler is
	// kept alive while it runs, and so are the messages its lanes hold
	// and the sections waiting for the rest of their cables (not those
	// still on their way from the server to a lane).
	AckWait time.Duration
	// ReceiveBatch is the largest batch handed to a Receive handler,
	// DefaultReceiveBatch when zero, at most BatchSize. A FLASH cable that
	// arrives while the handler stores a ROUTINE batch waits for that
	// batch: smaller batches bound the wait, larger ones amortise the
	// handler's commit.
	ReceiveBatch int
	// RetryDelay overrides DefaultRetryDelay.
	RetryDelay time.Duration
}

// Transport carries cables over JetStream. It implements cable.Transport.
type Transport struct {
	opts       Options
	log        *slog.Logger
	srv        *server.Server  // nil with an external server
	sopts      *server.Options // the embedded server's, resolved ports included
	nc         *natsgo.Conn
	js         jetstream.JetStream
	fwdJS      jetstream.JetStream // publishes to next hops
	prefix     string              // subject prefix: "cable"
	maxPayload int
	hosted     map[string]bool

	ncClosed chan struct{}

	alertMu sync.Mutex
	alerted map[string]time.Time // station and reason -> last raised

	linkMu sync.Mutex
	linkUp chan struct{} // closed, and replaced, when a leaf link comes up

	routes atomic.Pointer[cable.Routes]

	mu        sync.Mutex
	isClosed  bool
	closing   chan struct{}
	active    sync.WaitGroup // running Send, Receive and Forward calls
	closeOnce sync.Once
	closeErr  error
}

var (
	_ cable.Transport = (*Transport)(nil)
	_ cable.Forwarder = (*Transport)(nil)
)

// Open starts the embedded server (or connects to o.URL), creates or
// updates the stream and returns the transport.
func Open(ctx context.Context, o Options) (*Transport, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	t := &Transport{
		opts:     o,
		log:      o.Logger,
		prefix:   subjectPrefix(o.Stream),
		hosted:   map[string]bool{},
		alerted:  map[string]time.Time{},
		ncClosed: make(chan struct{}),
		closing:  make(chan struct{}),
		linkUp:   make(chan struct{}),
	}
	for _, s := range o.Stations {
		t.hosted[s] = true
	}
	t.routes.Store(o.Routes)
	if err := t.open(ctx); err != nil {
		t.shutdown()
		return nil, err
	}
	if o.MaxBytes > 0 && o.OnAlert != nil {
		t.active.Add(1)
		go t.watchSpace(alertCheckEvery)
	}
	if t.srv != nil && (o.Hub != "" || o.LeafListen != "") {
		t.active.Add(1)
		go t.watchLinks(linkCheckEvery)
	}
	return t, nil
}

// linkCheckEvery is how often the embedded server's leaf links are
// counted.
const linkCheckEvery = 100 * time.Millisecond

// watchLinks tells the forwarders when a leaf link comes up (the hub is
// back, or a post has joined again), so that they try their next hops at
// once rather than when their back-off runs out.
func (t *Transport) watchLinks(every time.Duration) {
	defer t.active.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := t.srv.NumLeafNodes()
	for {
		select {
		case <-t.closing:
			return
		case <-tick.C:
		}
		n := t.srv.NumLeafNodes()
		if n > last {
			t.log.Info("nats: leaf link up; forwarding again", "links", n)
			t.linkMu.Lock()
			close(t.linkUp)
			t.linkUp = make(chan struct{})
			t.linkMu.Unlock()
		}
		last = n
	}
}

// SetRoutes replaces the routes (Options.Routes) of a running transport:
// the forwarders use them from their next batch on. nil sends every
// transmission direct to its destination.
func (t *Transport) SetRoutes(r *cable.Routes) {
	t.routes.Store(r)
}

// linkChange returns a channel closed when a leaf link next comes up.
func (t *Transport) linkChange() <-chan struct{} {
	t.linkMu.Lock()
	defer t.linkMu.Unlock()
	return t.linkUp
}

func (o *Options) normalize() error {
	var ps cable.Problems
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ServerName == "" {
		o.ServerName = "cable"
		if o.Domain != "" {
			o.ServerName = "cable-" + o.Domain
		}
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	} else if len(o.Stream) > 64 || strings.ContainsAny(o.Stream, ". *>\t\r\n/\\") {
		ps.Add("stream", "stream name %q may not be longer than 64 bytes nor hold '.', '*', '>', '/', '\\' or white space", o.Stream)
	}
	if o.Domain != "" && strings.ContainsAny(o.Domain, ". *>\t\r\n/\\") {
		ps.Add("domain", "domain %q may not hold '.', '*', '>', '/', '\\' or white space", o.Domain)
	}
	if len(o.Stations) == 0 {
		ps.Add("stations", "name at least one station this node hosts")
	}
	seen := map[string]bool{}
	for _, s := range o.Stations {
		switch {
		case !cable.ValidStationCode(s):
			ps.Add("stations", "%q is not a station code", s)
		case seen[s]:
			ps.Add("stations", "%s is listed twice", s)
		}
		seen[s] = true
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	} else if o.MaxPayload <= envelopeRoom || o.MaxPayload > maxServerPayload {
		ps.Add("max_payload", "must be between %d and %d bytes, not %d", envelopeRoom+1, maxServerPayload, o.MaxPayload)
	}
	if o.MaxBytes < 0 {
		ps.Add("max_bytes", "may not be negative")
	}
	if o.URL == "" && o.StoreDir == "" {
		ps.Add("store_dir", "required for the embedded server")
	}
	if o.URL != "" {
		for field, v := range map[string]string{"listen": o.Listen, "leaf_listen": o.LeafListen, "hub": o.Hub} {
			if v != "" {
				ps.Add(field, "not with an external server (url)")
			}
		}
	}
	for field, v := range map[string]string{"listen": o.Listen, "leaf_listen": o.LeafListen} {
		if v != "" {
			if _, _, err := splitListen(v); err != nil {
				ps.Add(field, "%v", err)
			}
		}
	}
	if o.Hub != "" {
		if _, err := hubURL(o.Hub); err != nil {
			ps.Add("hub", "%v", err)
		}
	}
	if (o.Hub != "" || o.LeafListen != "") && o.Domain == "" {
		ps.Add("domain", "required with hub or leaf_listen: each node of a network has its own JetStream domain")
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.AckWait == 0 {
		o.AckWait = DefaultAckWait
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.ReceiveBatch == 0 {
		o.ReceiveBatch = DefaultReceiveBatch
	} else if o.ReceiveBatch < 0 || o.ReceiveBatch > BatchSize {
		ps.Add("receive_batch", "must be between 1 and %d, not %d", BatchSize, o.ReceiveBatch)
	}
	if o.SectionTimeout == 0 {
		o.SectionTimeout = DefaultSectionTimeout
	}
	if o.DuplicateWindow < 0 || o.AckWait < 0 || o.RetryDelay < 0 || o.SectionTimeout < 0 {
		ps.Add("options", "durations may not be negative")
	}
	return ps.Err("invalid transport options")
}

func splitListen(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has no valid port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// hubURL checks a hub's leaf-node URL: nats://host:port (or nats-leaf://,
// tls://).
func hubURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", s, err)
	}
	switch u.Scheme {
	case "nats", "nats-leaf", "tls":
	default:
		return nil, fmt.Errorf("%q: want nats://host:port", s)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("%q: want nats://host:port", s)
	}
	return u, nil
}

// subjectPrefix is "cable" for the default stream and "cable-<stream>"
// for any other.
func subjectPrefix(stream string) string {
	if stream == DefaultStream {
		return "cable"
	}
	return "cable-" + stream
}

func (t *Transport) open(ctx context.Context) error {
	o := t.opts
	copts := []natsgo.Option{
		natsgo.Name("cable"),
		natsgo.MaxReconnects(-1),
		natsgo.DrainTimeout(drainTimeout),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(t.ncClosed) }),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				t.log.Warn("nats: disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) { t.log.Info("nats: reconnected", "url", nc.ConnectedUrl()) }),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			t.log.Error("nats: async error", "subject", subj, "err", err)
		}),
	}
	var url string
	if o.URL != "" {
		url = o.URL
	} else {
		srv, sopts, err := startServer(o)
		if err != nil {
			return err
		}
		t.srv, t.sopts = srv, sopts
		copts = append(copts, natsgo.InProcessServer(srv))
	}
	nc, err := natsgo.Connect(url, copts...)
	if err != nil {
		return fmt.Errorf("nats: connect: %w", err)
	}
	t.nc = nc

	t.maxPayload = int(o.MaxPayload)
	if mp := int(nc.MaxPayload()); mp > 0 && mp < t.maxPayload {
		t.maxPayload = mp
	}

	jsopts := []jetstream.JetStreamOpt{jetstream.WithPublishAsyncTimeout(publishTimeout)}
	fwdopts := []jetstream.JetStreamOpt{jetstream.WithPublishAsyncTimeout(forwardTimeout)}
	if o.Domain != "" {
		t.js, err = jetstream.NewWithDomain(nc, o.Domain, jsopts...)
		if err == nil {
			t.fwdJS, err = jetstream.NewWithDomain(nc, o.Domain, fwdopts...)
		}
	} else {
		t.js, err = jetstream.New(nc, jsopts...)
		if err == nil {
			t.fwdJS, err = jetstream.New(nc, fwdopts...)
		}
	}
	if err != nil {
		return fmt.Errorf("nats: jetstream: %w", err)
	}

	// The embedded node captures its own stations' subjects only: core
	// subjects cross the leaf connections, and a stream capturing another
	// node's would take its traffic. A shared external server holds one
	// stream for every node.
	var subjects []string
	if o.URL != "" {
		subjects = []string{t.prefix + ".>"}
	} else {
		for _, s := range o.Stations {
			subjects = append(subjects, t.prefix+"."+s+".>")
		}
	}
	cfg := jetstream.StreamConfig{
		Name:        o.Stream,
		Description: "cables in custody, one message per transmission, kept until the next hop or the destination has it",
		Subjects:    subjects,
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew, // refuse rather than drop a cable in custody
		Duplicates:  o.DuplicateWindow,
		MaxMsgSize:  int32(t.maxPayload),
		MaxBytes:    -1,
		Replicas:    1,
	}
	if o.MaxBytes > 0 {
		cfg.MaxBytes = o.MaxBytes
	}
	if _, err := t.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("nats: create or update stream %s: %w", o.Stream, err)
	}
	return nil
}

// startServer starts the embedded server and waits until JetStream runs
// and its listeners are bound.
func startServer(o Options) (*server.Server, *server.Options, error) {
	sopts := &server.Options{
		ServerName:      o.ServerName,
		JetStream:       true,
		StoreDir:        o.StoreDir,
		JetStreamDomain: o.Domain,
		SyncAlways:      o.SyncAlways,
		MaxPayload:      o.MaxPayload,
		NoSigs:          true,
		DontListen:      o.Listen == "",
	}
	if o.Listen != "" {
		host, port, _ := splitListen(o.Listen) // checked in normalize
		sopts.Host, sopts.Port = host, port
	}
	// Leaf links carry sealed cables, ciphertext that does not compress:
	// the server's default (s2_auto) would frame or compress every message
	// for nothing, a fifth of a relay's CPU. Both ends turn it off.
	uncompressed := server.CompressionOpts{Mode: server.CompressionOff}
	if o.LeafListen != "" {
		host, port, _ := splitListen(o.LeafListen)
		sopts.LeafNode.Host, sopts.LeafNode.Port = host, port
		sopts.LeafNode.Compression = uncompressed
	}
	if o.Hub != "" {
		u, _ := hubURL(o.Hub)
		sopts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, Compression: uncompressed}}
	}
	if o.Hub != "" || o.LeafListen != "" {
		sopts.LeafNode.ReconnectInterval = leafReconnect
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, nil, fmt.Errorf("nats: embedded server: %w", err)
	}
	// Without a logger of our own the server exits the process on a
	// fatal JetStream error, or says nothing at all.
	srv.SetLoggerV2(&serverLogger{l: o.Logger.With("component", "nats-server"), every: alertEvery}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(startTimeout) {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("nats: embedded server not ready after %s (listen %q, leaf listen %q): see the server log", startTimeout, o.Listen, o.LeafListen)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("nats: embedded server started without JetStream (store dir %s): see the server log", o.StoreDir)
	}
	return srv, sopts, nil
}

// ClientURL returns the URL other processes connect to: the embedded
// server's when it listens, the external server's with Options.URL, and
// "" for an in-process-only server.
func (t *Transport) ClientURL() string {
	if t.opts.URL != "" {
		return t.opts.URL
	}
	if t.srv != nil && t.opts.Listen != "" {
		return t.srv.ClientURL()
	}
	return ""
}

// LeafURL returns "nats://host:port" where the embedded server accepts
// leaf-node connections (the port it bound when LeafListen asked for port
// 0), or "" without LeafListen: what other nodes give as Options.Hub.
func (t *Transport) LeafURL() string {
	if t.srv == nil || t.opts.LeafListen == "" {
		return ""
	}
	host := t.sopts.LeafNode.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(t.sopts.LeafNode.Port))
}

// MaxPayload returns the largest text a transmission may carry: the
// channel's maximum payload less room for the envelope headers as they
// grow along the route. The centre cuts longer cables into sections.
func (t *Transport) MaxPayload() int { return t.maxPayload - envelopeRoom }

// Stream returns the name of the stream the transport uses.
func (t *Transport) Stream() string { return t.opts.Stream }

// Hosts reports whether this node hosts station.
func (t *Transport) Hosts(station string) bool { return t.hosted[station] }

// Close stops every running Receive and Forward after its current batch,
// drains the connection (pending publishes and acknowledgements reach the
// server) and shuts the embedded server down. It is safe to call more
// than once.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.isClosed = true
		close(t.closing)
		t.mu.Unlock()
		t.active.Wait()
		t.closeErr = t.shutdown()
	})
	return t.closeErr
}

func (t *Transport) shutdown() error {
	var errs []error
	if t.nc != nil {
		if err := t.nc.Drain(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("nats: drain: %w", err))
			t.nc.Close()
		}
		select {
		case <-t.ncClosed:
		case <-time.After(drainTimeout + time.Second):
			t.nc.Close()
			errs = append(errs, fmt.Errorf("nats: drain did not finish within %s", drainTimeout))
		}
	}
	if t.srv != nil {
		t.srv.Shutdown()
		t.srv.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// enter registers a running call, or fails once Close has begun.
func (t *Transport) enter() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isClosed {
		return ErrClosed
	}
	t.active.Add(1)
	return nil
}

// closingContext returns ctx, cancelled with ErrClosed when Close begins.
func (t *Transport) closingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-t.closing:
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// alert raises an operator alert through Options.OnAlert, at most once
// per alertEvery for one station and reason.
func (t *Transport) alert(station, reason string) {
	key := station + "\x00" + reason
	now := time.Now()
	t.alertMu.Lock()
	last, ok := t.alerted[key]
	if ok && now.Sub(last) < alertEvery {
		t.alertMu.Unlock()
		return
	}
	t.alerted[key] = now
	t.alertMu.Unlock()
	t.log.Warn("nats: alert", "station", station, "reason", reason)
	if t.opts.OnAlert != nil {
		t.opts.OnAlert(station, reason)
	}
}

// isFull reports whether err is a stream refusing a message for lack of
// space.
func isFull(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "maximum bytes exceeded") || strings.Contains(s, "insufficient resources") ||
		strings.Contains(s, "maximum messages exceeded") || strings.Contains(s, "storage limit")
}

// watchSpace alerts while the stream holds more than fullAt of MaxBytes.
func (t *Transport) watchSpace(every time.Duration) {
	defer t.active.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		t.checkSpace()
		select {
		case <-t.closing:
			return
		case <-tick.C:
		}
	}
}

// checkSpace raises the alert if the stream is past fullAt of its budget.
func (t *Transport) checkSpace() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := t.js.Stream(ctx, t.opts.Stream)
	if err != nil {
		return
	}
	info, err := s.Info(ctx)
	if err != nil {
		return
	}
	if float64(info.State.Bytes) > fullAt*float64(t.opts.MaxBytes) {
		t.alert(t.opts.Stations[0], fmt.Sprintf("stream %s past %d%% of its disk budget of %d bytes",
			t.opts.Stream, int(fullAt*100), t.opts.MaxBytes))
	}
}

// serverLogger forwards the embedded server's log to slog.
type serverLogger struct {
	l *slog.Logger
	// every bounds how often a failed leaf-node connection is logged:
	// the server retries each second while its hub is down, and the
	// transport raises its own alert when a next hop stays unreachable.
	every time.Duration

	mu       sync.Mutex
	leafAt   time.Time
	leafMute int
}

const leafConnectError = "Error trying to connect as leafnode"

// Notices (the start-up banner, connections) are routine: debug level.
func (s *serverLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "Leafnode connection created") {
		s.mu.Lock()
		s.leafAt, s.leafMute = time.Time{}, 0 // the next outage is news again
		s.mu.Unlock()
	}
	s.l.Debug(msg)
}
func (s *serverLogger) Warnf(format string, v ...any) { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Fatalf(format string, v ...any) {
	s.l.Error(fmt.Sprintf(format, v...), "fatal", true)
}

// Errorf logs the server's errors, except that a hub that cannot be
// reached is a warning, logged once and then at most once every
// s.every with the count of attempts left unlogged.
func (s *serverLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, leafConnectError) {
		s.l.Error(msg)
		return
	}
	s.mu.Lock()
	now := time.Now()
	if !s.leafAt.IsZero() && now.Sub(s.leafAt) < s.every {
		s.leafMute++
		s.mu.Unlock()
		return
	}
	muted := s.leafMute
	s.leafAt, s.leafMute = now, 0
	s.mu.Unlock()
	s.l.Warn(msg, "retrying", "every second", "attempts_not_logged", muted)
}
func (s *serverLogger) Debugf(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Tracef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
