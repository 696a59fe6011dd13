// Package centre is the message centre: it releases cables for the
// stations a node hosts, hands them to the transport, receives what the
// transport delivers, stamps receipt and distributes by the routing rules,
// and answers people's reads under the access policy. It implements the
// domain's CableService and UserService over the interfaces of a records
// store, a transport and the text form, and knows none of their
// implementations.
package centre

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	cable "github.com/cable-archive/cable"
)

// Config is what a message centre is built from.
type Config struct {
	Records   cable.Records
	Transport cable.Transport
	Form      cable.TextForm
	Directory *cable.Directory
	Rules     *cable.RoutingRules
	// Stations are the stations this node hosts.
	Stations []string
	Logger   *slog.Logger
	Metrics  *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SessionTTL is how long a web session lasts; 12 hours when zero.
	SessionTTL time.Duration
	// Sealer signs and encrypts what the hosted stations send and opens
	// what they receive.
	Sealer cable.Sealer
	// SectionLimit is the largest sealed text the channel carries; a
	// cable longer than that is cut into sections. 1 MiB when zero.
	SectionLimit int
	// ReplayWindow is how old a cable's date-time group may be when it
	// first arrives; an older one not held already is refused as a replay.
	// 30 days when zero: longer than any link outage.
	ReplayWindow time.Duration
	// WatchInterval is how often the speed-of-service watch looks for
	// overdue transmissions; 30 seconds when zero.
	WatchInterval time.Duration
	// ReleaseGather is how long a release transaction is held open, at
	// most, for releases still on their way (see releaseLoop); 10
	// milliseconds when zero, none when negative.
	ReleaseGather time.Duration
	// TransmitPace is the least time between two rounds of the
	// transmitter woken by releases other than FLASH (see
	// transmitPace); 25 milliseconds when zero, none when negative.
	TransmitPace time.Duration
}

// Centre is a message centre for one or more stations.
type Centre struct {
	records      cable.Records
	transport    cable.Transport
	form         cable.TextForm
	dir          *cable.Directory
	rules        atomic.Pointer[cable.RoutingRules]
	stations     []string
	hosted       map[string]bool
	log          *slog.Logger
	metrics      *Metrics
	now          func() time.Time
	ttl          time.Duration
	sealer       cable.Sealer
	sectionLimit int
	replayWindow time.Duration
	watchEvery   time.Duration
	gather       time.Duration
	pace         time.Duration
	// unsealable holds the transmissions (cable and destination) the
	// centre could not seal and that wait in the outbox, so that the
	// operator is alerted once, not at every pass, and so that they do not
	// take the places of others in the transmitter's batches. Only the
	// transmit loop uses it.
	unsealable map[string]bool
	// untrusted holds, by cable, when a cable sealed under a key
	// generation not trusted yet was first seen.
	untrusted sync.Map
	// waiting counts the entries of untrusted.
	waiting atomic.Int64

	releases chan *pendingRelease
	// preparing counts the releases being checked and rendered, on their
	// way to releases: the release loop waits a moment for them so that
	// they commit together.
	preparing atomic.Int64
	// kick wakes the transmitter after a release, flash at once after a
	// FLASH release (see transmitPace).
	kick, flash chan struct{}
	// moved carries, from the forwarders to hopLoop, the cables that have
	// passed to a next hop, so that recording where they are never holds
	// a forwarder up behind the records' writer.
	moved chan []*cable.Transmission
	wg    sync.WaitGroup
	// stopped is closed when Run returns: a release made after that is
	// refused at once, not left waiting for a loop that is gone.
	stopped  chan struct{}
	stopOnce sync.Once
}

// New checks the configuration and returns a centre. Call Run to start
// its release, transmission and receiving loops.
func New(cfg Config) (*Centre, error) {
	var ps cable.Problems
	if cfg.Records == nil {
		ps.Add("records", "a records store is required")
	}
	if cfg.Transport == nil {
		ps.Add("transport", "a transport is required")
	}
	if cfg.Form == nil {
		ps.Add("form", "the text form is required")
	}
	if cfg.Directory == nil {
		ps.Add("directory", "a station directory is required")
	}
	if len(cfg.Stations) == 0 {
		ps.Add("stations", "a node hosts at least one station")
	}
	if cfg.Sealer == nil {
		ps.Add("sealer", "station keys are required: cables are signed and encrypted")
	}
	c := &Centre{
		records: cfg.Records, transport: cfg.Transport, form: cfg.Form, dir: cfg.Directory,
		stations: cfg.Stations, hosted: map[string]bool{}, log: cfg.Logger, metrics: cfg.Metrics,
		now: cfg.Now, ttl: cfg.SessionTTL, sealer: cfg.Sealer,
		sectionLimit: cfg.SectionLimit, replayWindow: cfg.ReplayWindow, watchEvery: cfg.WatchInterval,
		gather: cfg.ReleaseGather, pace: cfg.TransmitPace,
		releases: make(chan *pendingRelease, 1024), kick: make(chan struct{}, 1), flash: make(chan struct{}, 1),
		moved: make(chan []*cable.Transmission, 256), unsealable: map[string]bool{},
		stopped: make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ttl == 0 {
		c.ttl = 12 * time.Hour
	}
	if c.metrics == nil {
		c.metrics = NewMetrics()
	}
	if c.sectionLimit <= 0 {
		c.sectionLimit = 1 << 20
	}
	if c.replayWindow <= 0 {
		c.replayWindow = 30 * 24 * time.Hour
	}
	if c.gather == 0 {
		c.gather = defaultReleaseGather
	}
	if c.pace == 0 {
		c.pace = transmitPace
	}
	if c.watchEvery <= 0 {
		c.watchEvery = 30 * time.Second
	}
	for _, s := range cfg.Stations {
		c.hosted[s] = true
		if cfg.Directory == nil {
			continue
		}
		st, err := cfg.Directory.Station(s)
		if err != nil {
			ps.Add("stations", "station %s is not in the directory", s)
			continue
		}
		if st.Kind != cable.Relay {
			if _, ok := cfg.Rules.Distribute(&cable.Cable{Station: "XX"}, s); !ok {
				ps.Add("rules", "station %s receives cables but has no routing rules", s)
			}
		}
	}
	if err := ps.Err("invalid message centre configuration"); err != nil {
		return nil, err
	}
	c.rules.Store(cfg.Rules)
	return c, nil
}

// SetRules replaces the routing rules, as when an operator edits the file.
func (c *Centre) SetRules(rr *cable.RoutingRules) { c.rules.Store(rr) }

// Directory returns the station directory.
func (c *Centre) Directory() *cable.Directory { return c.dir }

// Run starts the release, transmission and receiving loops and blocks
// until ctx is done and they have stopped. Transmissions queued before a
// crash are sent again on start; receivers deduplicate. Run is called
// once: once it has returned, releases are refused.
func (c *Centre) Run(ctx context.Context) error {
	// One loop failing stops the others, so that Run returns its error.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.stop()
	errc := make(chan error, 2*len(c.stations)+4)
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	run("release", c.releaseLoop)
	run("transmit", c.transmitLoop)
	run("watch", c.watchLoop)
	run("hops", c.hopLoop)
	for _, s := range c.stations {
		// Every station forwards what is in its custody for others: a
		// post its own cables, a relay what passes through it.
		run("forward "+s, func(ctx context.Context) error { return c.forwardLoop(ctx, s) })
		st, _ := c.dir.Station(s)
		if st != nil && st.Kind == cable.Relay {
			continue
		}
		run("receive "+s, func(ctx context.Context) error { return c.receiveLoop(ctx, s) })
	}
	select {
	case <-ctx.Done():
		wg.Wait()
		return nil
	case err := <-errc:
		cancel()
		wg.Wait()
		return err
	}
}

// stop refuses the releases still queued and any made from now on.
func (c *Centre) stop() {
	c.stopOnce.Do(func() { close(c.stopped) })
	c.failPending(errStopped)
}

// errStopped refuses a release once the centre's loops have stopped.
var errStopped = cable.Errorf(cable.EINTERNAL, "the message centre has stopped: the cable was not released; try again once it is running")

// Hosts reports whether this node hosts station.
func (c *Centre) Hosts(station string) bool { return c.hosted[station] }

func (c *Centre) kickTransmitter(p cable.Precedence) {
	kick := c.kick
	if p == cable.Flash {
		kick = c.flash
	}
	select {
	case kick <- struct{}{}:
	default:
	}
}

// parallel runs f(0) to f(n-1) on every core and waits for them.
func parallel(n int, f func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
