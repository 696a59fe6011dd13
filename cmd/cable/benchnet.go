package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	cable "github.com/cable-archive/cable"
)

// netBench is what `cable bench --network` measures on the three-node
// network (post MOSCOW, relay WAR, hub STATE), each node in this process
// (or, with --processes, a process of its own) with its own embedded NATS
// server (custody synced), SQLite records and keys, the servers joined by
// leaf-node links over loopback TCP.
type netBench struct {
	// Cables is release at the post to stored and distributed at the hub,
	// signed, encrypted and in synced custody at every hop.
	Cables benchResult `json:"cables"`
	// RawBefore and Raw are JetStream publish of the same bytes from a
	// client of the post's server into a stream on the hub's server,
	// across the same leaf links, synced, all acknowledgements awaited:
	// measured just before Cables and just after, so that a machine whose
	// speed drifts is compared with itself.
	RawBefore benchResult `json:"raw_before"`
	Raw       benchResult `json:"raw"`
	// Latency is release to stored at the hub under that load, by precedence.
	Latency map[string]latency `json:"latency"`
	// Flash is release to stored at the hub for FLASH cables released
	// while a ROUTINE backlog drains through the network.
	Flash   *latency `json:"flash_behind_backlog,omitempty"`
	Backlog int      `json:"backlog,omitempty"`
	// Ratio is Cables over the mean of RawBefore and Raw.
	Ratio float64 `json:"ours_over_raw"`
	// NodeCPU is, with the nodes in processes of their own, each one's
	// CPU time over Cables' measured part a cable, in milliseconds, and
	// the releasing clients' ("clients").
	NodeCPU map[string]float64 `json:"node_cpu_ms_per_cable,omitempty"`
}

// latency is a distribution of delivery times in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func newLatency(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		return float64(ds[max(0, min(i, len(ds)-1))].Microseconds()) / 1000
	}
	return latency{N: len(ds), P50: q(0.50), P99: q(0.99), Max: q(1)}
}

// inProcess is the network's nodes running in this process.
type inProcess struct {
	nw    *network
	log   *slog.Logger
	nodes map[string]*node
}

func (p *inProcess) start(ctx context.Context, station string) error {
	n := p.nw.nodes[station]
	nd, err := startNode(ctx, nodeConfig{
		Data: n.data, Addr: n.addr, Demo: true, Stations: []string{station},
		NATSListen: n.leaf, Hub: n.hub, NATSClientListen: n.client, Logger: p.log,
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", station, err)
	}
	p.nodes[station] = nd
	return nil
}

func (p *inProcess) stop(station string) error {
	nd := p.nodes[station]
	delete(p.nodes, station)
	if nd == nil {
		return nil
	}
	return nd.Close()
}

func (p *inProcess) close() {
	for _, st := range networkStations {
		p.stop(st)
	}
}

// holds reports whether the hub holds cable id, received.
func (p *inProcess) holds(ctx context.Context, id string) (time.Time, bool) {
	rec, err := p.nodes["STATE"].records.Cable(ctx, id)
	if err != nil {
		return time.Time{}, false
	}
	d := rec.DeliveryFor("STATE")
	if d == nil {
		return time.Time{}, false
	}
	return d.Receipt.At, true
}

// benchNetwork runs the network benchmark under dir: n cables of about 4
// KB released by workers clients, raw JetStream beside it, then, when
// backlog > 0, flashRuns FLASH cables released behind a ROUTINE backlog.
func benchNetwork(ctx context.Context, dir string, n, workers, backlog, flashRuns int, watch *measuredPart, progress io.Writer) (*netBench, error) {
	nw, err := newNetwork(dir, nil, io.Discard)
	if err != nil {
		return nil, err
	}
	p := &inProcess{nw: nw, log: slog.New(slog.NewTextHandler(io.Discard, nil)), nodes: map[string]*node{}}
	defer p.close()
	for _, st := range networkStations {
		if err := p.start(ctx, st); err != nil {
			return nil, err
		}
	}
	post := p.nodes["MOSCOW"]
	drafter, _, err := post.records.UserByName(ctx, "drafter.moscow")
	if err != nil {
		return nil, err
	}
	out := &netBench{}

	// One cable through first: it warms the path, and its canonical text
	// is what raw JetStream carries.
	warm, err := post.centre.Release(ctx, drafter, chaosCable(n+1, 0))
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	for {
		if _, ok := p.holds(ctx, warm.Cable.ID); ok {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	sample := warm.Text
	fmt.Fprintf(progress, "bench: raw JetStream before, %d messages of %d bytes\n", n, len(sample))
	if out.RawBefore, err = benchRawAcross(ctx, nw, sample, n, processCPU); err != nil {
		return nil, fmt.Errorf("raw JetStream: %w", err)
	}

	// Ours: release to stored at the hub.
	fmt.Fprintf(progress, "bench: %d cables MOSCOW -> WAR -> STATE\n", n)
	received := p.nodes["STATE"].metrics.Received("STATE")
	stopWatch, err := watch.start()
	if err != nil {
		return nil, err
	}
	defer stopWatch()
	cables := benchDrafts(n)
	cpu0 := processCPU()
	start := time.Now()
	ids, err := releaseAll(ctx, cables, workers, func(ctx context.Context, i int) (string, error) {
		rec, err := post.centre.Release(ctx, drafter, cables[i])
		if err != nil {
			return "", err
		}
		return rec.Cable.ID, nil
	})
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	fmt.Fprintf(progress, "bench: %d released at MOSCOW in %.2fs\n", n, time.Since(start).Seconds())
	// Done when the hub has counted every cable received; reading each
	// cable's receipt as it comes would take the hub's cores from the
	// network being measured.
	hub := p.nodes["STATE"].metrics
	for hub.Received("STATE") < received+n {
		if time.Since(start) > 20*time.Minute {
			return nil, fmt.Errorf("%d of %d cables at the hub after 20 minutes", hub.Received("STATE")-received, n)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	cpu := cpuPerCable(cpu0, n)
	if err := stopWatch(); err != nil {
		return nil, err
	}
	out.Latency, err = latencies(ids, func(id string) (time.Time, error) {
		at, ok := p.holds(ctx, id)
		if !ok {
			return time.Time{}, fmt.Errorf("%s counted at the hub but not held there", id)
		}
		return at, nil
	})
	if err != nil {
		return nil, err
	}
	out.Cables = benchResult{Name: "release at MOSCOW to stored at STATE via WAR (sealed, synced custody)", Cables: n, Seconds: secs, PerSecond: float64(n) / secs, CPUPerCable: cpu}

	// Raw JetStream between the same servers, again.
	fmt.Fprintf(progress, "bench: raw JetStream after, %d messages of %d bytes\n", n, len(sample))
	if out.Raw, err = benchRawAcross(ctx, nw, sample, n, processCPU); err != nil {
		return nil, fmt.Errorf("raw JetStream: %w", err)
	}
	out.Ratio = out.Cables.PerSecond / ((out.RawBefore.PerSecond + out.Raw.PerSecond) / 2)

	if backlog > 0 && flashRuns > 0 {
		fl, err := benchFlashBehind(ctx, p, drafter, backlog, flashRuns, progress)
		if err != nil {
			return nil, err
		}
		out.Flash, out.Backlog = &fl, backlog
	}
	return out, nil
}

// releasedCable is a cable a benchmark released: its identifier, its
// precedence, and when its release was acknowledged.
type releasedCable struct {
	id   string
	prec cable.Precedence
	at   time.Time
}

// benchDrafts is chaosCable(1) to chaosCable(n), the drafts a benchmark
// releases, made before its clock starts: a load generator's own work is
// not the network's.
func benchDrafts(n int) []*cable.Cable {
	cables := make([]*cable.Cable, n)
	for i := range cables {
		cables[i] = chaosCable(i+1, 0)
	}
	return cables
}

// releaseAll releases each of cables through release (given the
// cable's index), workers at a time, each worker taking the next cable as
// soon as its last is acknowledged. It stops at the first error.
func releaseAll(ctx context.Context, cables []*cable.Cable, workers int, release func(ctx context.Context, i int) (string, error)) ([]releasedCable, error) {
	var mu sync.Mutex
	var ids []releasedCable
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cables) {
					return
				}
				prec := cables[i].Precedence
				id, err := release(ctx, i)
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				ids = append(ids, releasedCable{id, prec, time.Now()})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
		return ids, nil
	}
}

// latencies is, by precedence, each released cable's time from its
// release to its receipt at the hub, which receivedAt reads.
func latencies(ids []releasedCable, receivedAt func(id string) (time.Time, error)) (map[string]latency, error) {
	byPrec := map[cable.Precedence][]time.Duration{}
	for _, r := range ids {
		at, err := receivedAt(r.id)
		if err != nil {
			return nil, err
		}
		byPrec[r.prec] = append(byPrec[r.prec], at.Sub(r.at))
	}
	out := map[string]latency{}
	for prec, ds := range byPrec {
		out[prec.String()] = newLatency(ds)
	}
	return out, nil
}

// benchRawAcross publishes n copies of text from a client of MOSCOW's
// server to a file stream on STATE's, across the leaf links through WAR;
// cpu reports the CPU time the nodes have used.
func benchRawAcross(ctx context.Context, nw *network, text []byte, n int, cpu func() time.Duration) (benchResult, error) {
	hubConn, err := natsgo.Connect("nats://" + nw.nodes["STATE"].client)
	if err != nil {
		return benchResult{}, err
	}
	defer hubConn.Close()
	hubJS, err := jetstream.New(hubConn)
	if err != nil {
		return benchResult{}, err
	}
	if _, err := hubJS.CreateStream(ctx, jetstream.StreamConfig{Name: "RAWBENCH", Subjects: []string{"rawbench.>"}, Storage: jetstream.FileStorage}); err != nil {
		return benchResult{}, err
	}
	defer hubJS.DeleteStream(context.Background(), "RAWBENCH")
	postConn, err := natsgo.Connect("nats://" + nw.nodes["MOSCOW"].client)
	if err != nil {
		return benchResult{}, err
	}
	defer postConn.Close()
	js, err := jetstream.New(postConn)
	if err != nil {
		return benchResult{}, err
	}
	// Wait for the stream's interest to cross the leaf links.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := js.Publish(ctx, "rawbench.probe", []byte("x")); err == nil {
			break
		} else if time.Now().After(deadline) {
			return benchResult{}, fmt.Errorf("no route to the hub's stream: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cpu0 := cpu()
	start := time.Now()
	for range n {
		if _, err := js.PublishAsync("rawbench.STATE", text, jetstream.WithStallWait(30*time.Second)); err != nil {
			return benchResult{}, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Minute):
		return benchResult{}, fmt.Errorf("acks not all in after 10 minutes")
	}
	secs := time.Since(start).Seconds()
	return benchResult{Name: "raw JetStream publish MOSCOW client -> STATE stream (synced, async)", Cables: n, Seconds: secs, PerSecond: float64(n) / secs, CPUPerCable: cpuPer(cpu, cpu0, n)}, nil
}

// benchFlashBehind stops the relay, queues backlog ROUTINE cables at the
// post, restarts the relay, and while the backlog drains through the
// network releases runs FLASH cables one after another, timing each from
// release to stored at the hub.
func benchFlashBehind(ctx context.Context, p *inProcess, drafter *cable.User, backlog, runs int, progress io.Writer) (latency, error) {
	if err := p.stop("WAR"); err != nil {
		return latency{}, err
	}
	post := p.nodes["MOSCOW"]
	fmt.Fprintf(progress, "bench: queueing %d ROUTINE cables at MOSCOW with the relay down\n", backlog)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > backlog {
					return
				}
				if _, err := post.centre.Release(ctx, drafter, benchCable(i)); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return latency{}, err
	default:
	}
	// Wait until the post's transport holds the whole backlog: nothing
	// left in the outbox.
	for {
		ts, err := post.records.PendingTransmissions(ctx, 1)
		if err != nil {
			return latency{}, err
		}
		if len(ts) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(progress, "bench: relay back; %d FLASH cables behind the backlog\n", runs)
	if err := p.start(ctx, "WAR"); err != nil {
		return latency{}, err
	}
	// Time FLASH behind a backlog that is moving, not the relay's return:
	// wait for the first backlog cable to reach STATE.
	hub := p.nodes["STATE"]
	all := cable.CableFilter{MaxClassification: cable.TopSecret, CaptionMask: cable.CaptionMask(cable.AllCaptions()), Station: "STATE", Office: "EUR", Limit: 1}
	_, before, err := hub.records.FindCables(ctx, all)
	if err != nil {
		return latency{}, err
	}
	for {
		_, now, err := hub.records.FindCables(ctx, all)
		if err != nil {
			return latency{}, err
		}
		if now > before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if q, err := post.transport.Queued(ctx, "MOSCOW"); err == nil {
		fmt.Fprintf(progress, "bench: backlog flowing; %d ROUTINE messages (batches of up to 256 cables) still at MOSCOW\n", q[cable.Routine])
	}
	var ds []time.Duration
	for i := range runs {
		c := benchCable(900000 + i)
		c.Precedence = cable.Flash
		t0 := time.Now()
		rec, err := post.centre.Release(ctx, drafter, c)
		if err != nil {
			return latency{}, err
		}
		for {
			if _, ok := p.holds(ctx, rec.Cable.ID); ok {
				break
			}
			if time.Since(t0) > 5*time.Minute {
				return latency{}, fmt.Errorf("FLASH %s not at the hub after 5 minutes", rec.Cable.ID)
			}
			time.Sleep(time.Millisecond)
		}
		ds = append(ds, time.Since(t0))
		time.Sleep(200 * time.Millisecond)
	}
	return newLatency(ds), nil
}

// measuredPart names where to write a CPU profile and an execution trace
// of what a benchmark measures: of a network run, its measured part alone,
// not the nodes' start nor raw JetStream beside it. A nil *measuredPart or
// an empty name writes none.
type measuredPart struct {
	cpuProfile, trace string
}

// start begins what w asks for and returns what ends it; calling that
// again does nothing.
func (w *measuredPart) start() (stop func() error, err error) {
	var closers []func() error
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			for _, c := range closers {
				stopErr = errors.Join(stopErr, c())
			}
		})
		return stopErr
	}
	if w == nil {
		return stop, nil
	}
	if w.cpuProfile != "" {
		f, err := os.Create(w.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		closers = append(closers, func() error { pprof.StopCPUProfile(); return f.Close() })
	}
	if w.trace != "" {
		f, err := os.Create(w.trace)
		if err != nil {
			stop()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, err
		}
		closers = append(closers, func() error { trace.Stop(); return f.Close() })
	}
	return stop, nil
}
