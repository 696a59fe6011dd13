// Package nats carries cables between message centres over NATS JetStream.
//
// Every transmission is one message in the stream CABLES on the subject
// cable.to.<STATION>.<PROSIGN>: the body is the cable's canonical text and
// the headers carry the routing envelope (cable id, origin, destination,
// precedence, SHA-256, queued-at). The stream keeps a message on file until
// the destination's consumer acknowledges it (work-queue retention), so
// custody passes from the sender to the stream when Send returns and from
// the stream to the receiver when its handler has stored the batch.
//
// Open either embeds a NATS server with JetStream on local disk (one
// process, one laptop) or connects to an external NATS server or cluster.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
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
	// BatchSize is the largest batch handed to a Receive handler.
	BatchSize = 256

	maxServerPayload = 64 << 20 // the NATS server's hard limit
	startTimeout     = 10 * time.Second
	drainTimeout     = 30 * time.Second
	publishTimeout   = 30 * time.Second
	stallWait        = 500 * time.Millisecond
	maxAckPending    = 4 * BatchSize
)

// ErrClosed is returned by a Transport used after Close.
var ErrClosed = errors.New("nats: transport closed")

// Options configures a Transport.
type Options struct {
	// StoreDir is where the embedded server keeps JetStream's files.
	// Required unless URL is set.
	StoreDir string
	// Listen is "host:port" to expose the embedded server to other
	// processes (port 0 picks a free port); "" keeps it in-process only.
	Listen string
	// URL connects to an external NATS server instead of embedding one.
	URL string
	// Logger receives the transport's and the embedded server's logs.
	Logger *slog.Logger
	// MaxPayload bounds a message, headers included; default 8 MiB. With
	// URL, the server's own limit applies if it is lower.
	MaxPayload int32
	// Domain is the JetStream domain, optional.
	Domain string
	// ServerName names the embedded server, default "cable"; give each
	// node its own when servers are joined as leaf nodes or a cluster.
	ServerName string
	// Stream names the stream, default "CABLES". The subject prefix
	// follows it: "cable" for CABLES, "cable.<Stream>" for any other, so
	// that several streams can share one server without overlapping.
	Stream string
	// SyncAlways makes the embedded server fsync every write before
	// acknowledging it: custody survives a power loss, at a large cost in
	// throughput. By default writes reach the operating system at once
	// and the disk within two minutes, which survives a process crash.
	SyncAlways bool
	// DuplicateWindow overrides DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	// AckWait overrides DefaultAckWait. The batch in the handler is kept
	// alive while it runs, but Receive holds up to three batches ahead of
	// it: a handler slower than AckWait/3 a batch sees some cables twice.
	AckWait time.Duration
	// RetryDelay overrides DefaultRetryDelay.
	RetryDelay time.Duration
}

// Transport carries cables over JetStream. It implements cable.Transport.
type Transport struct {
	opts       Options
	log        *slog.Logger
	srv        *server.Server // nil with an external server
	nc         *natsgo.Conn
	js         jetstream.JetStream
	prefix     string // subject prefix: "cable"
	maxPayload int

	ncClosed chan struct{}

	mu        sync.Mutex
	isClosed  bool
	closing   chan struct{}
	active    sync.WaitGroup // running Send and Receive calls
	closeOnce sync.Once
	closeErr  error
}

var _ cable.Transport = (*Transport)(nil)

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
		ncClosed: make(chan struct{}),
		closing:  make(chan struct{}),
	}
	if err := t.open(ctx); err != nil {
		t.shutdown()
		return nil, err
	}
	return t, nil
}

func (o *Options) normalize() error {
	var ps cable.Problems
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ServerName == "" {
		o.ServerName = "cable"
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	} else if strings.ContainsAny(o.Stream, ". *>\t\r\n/\\") {
		ps.Add("stream", "stream name %q may not hold '.', '*', '>', '/', '\\' or white space", o.Stream)
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	} else if o.MaxPayload < 0 || o.MaxPayload > maxServerPayload {
		ps.Add("max_payload", "must be between 1 and %d bytes, not %d", maxServerPayload, o.MaxPayload)
	}
	if o.URL == "" && o.StoreDir == "" {
		ps.Add("store_dir", "required for the embedded server")
	}
	if o.URL != "" && o.Listen != "" {
		ps.Add("listen", "an external server (url) cannot listen")
	}
	if o.Listen != "" {
		if _, _, err := splitListen(o.Listen); err != nil {
			ps.Add("listen", "%v", err)
		}
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
	if o.DuplicateWindow < 0 || o.AckWait < 0 || o.RetryDelay < 0 {
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

// subjectPrefix is "cable" for the default stream and "cable.<stream>"
// for any other.
func subjectPrefix(stream string) string {
	if stream == DefaultStream {
		return "cable"
	}
	return "cable." + stream
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
		srv, err := startServer(o)
		if err != nil {
			return err
		}
		t.srv = srv
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
	if o.Domain != "" {
		t.js, err = jetstream.NewWithDomain(nc, o.Domain, jsopts...)
	} else {
		t.js, err = jetstream.New(nc, jsopts...)
	}
	if err != nil {
		return fmt.Errorf("nats: jetstream: %w", err)
	}

	cfg := jetstream.StreamConfig{
		Name:        o.Stream,
		Description: "cables in transit, one message per transmission, kept until the destination acknowledges it",
		Subjects:    []string{t.prefix + ".to.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew, // refuse rather than drop a cable in custody
		Duplicates:  o.DuplicateWindow,
		MaxMsgSize:  int32(t.maxPayload),
		Replicas:    1,
	}
	if _, err := t.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("nats: create or update stream %s: %w", o.Stream, err)
	}
	return nil
}

// startServer starts the embedded server and waits until JetStream runs.
func startServer(o Options) (*server.Server, error) {
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
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("nats: embedded server: %w", err)
	}
	// Without a logger of our own the server exits the process on a
	// fatal JetStream error, or says nothing at all.
	srv.SetLoggerV2(serverLogger{o.Logger.With("component", "nats-server")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(startTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats: embedded server not ready after %s", startTimeout)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, fmt.Errorf("nats: embedded server started without JetStream (store dir %s): see the server log", o.StoreDir)
	}
	return srv, nil
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

// Stream returns the name of the stream the transport uses.
func (t *Transport) Stream() string { return t.opts.Stream }

// Close stops every running Receive after its current batch, drains the
// connection (pending publishes and acknowledgements reach the server)
// and shuts the embedded server down. It is safe to call more than once.
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

// serverLogger forwards the embedded server's log to slog.
type serverLogger struct{ l *slog.Logger }

// Notices (the start-up banner, connections) are routine: debug level.
func (s serverLogger) Noticef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLogger) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s serverLogger) Fatalf(format string, v ...any) {
	s.l.Error(fmt.Sprintf(format, v...), "fatal", true)
}
func (s serverLogger) Errorf(format string, v ...any) { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLogger) Debugf(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLogger) Tracef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
