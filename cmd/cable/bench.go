package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/nats"
	"github.com/cable-archive/cable/seal"
	"github.com/cable-archive/cable/sqlite"
)

var timeNow = time.Now

// benchResult is one measured figure.
type benchResult struct {
	Name      string  `json:"name"`
	Cables    int     `json:"cables"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// CPUPerCable is the CPU time, user and system, of the process (or,
	// with the nodes in processes of their own, of those and this one)
	// over the measured part divided by Cables, in milliseconds (0: not
	// measured).
	CPUPerCable float64 `json:"cpu_ms_per_cable,omitempty"`
}

// cpuPerCable is the process CPU time used since from, a cable of n, in
// milliseconds.
func cpuPerCable(from time.Duration, n int) float64 { return cpuPer(processCPU, from, n) }

// cpuPer is the CPU time cpu reports used since from, a cable of n, in
// milliseconds.
func cpuPer(cpu func() time.Duration, from time.Duration, n int) float64 {
	used := cpu() - from
	if from == 0 || used <= 0 || n <= 0 {
		return 0
	}
	return msPerCable(used, n)
}

// msPerCable is used, a cable of n, in milliseconds.
func msPerCable(used time.Duration, n int) float64 {
	return float64(used.Microseconds()) / 1000 / float64(n)
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench [--n N] [--workers W] [--network [--runs R] [--processes | --backlog B --flash-runs F]] [--json]", stdout, stderr)
	n := fs.Int("n", 5000, "`number` of cables to release")
	workers := fs.Int("workers", 64, "concurrent releasing `clients`")
	network := fs.Bool("network", false, "measure the three-node network (post, relay, hub) instead of one node")
	processes := fs.Bool("processes", false, "with --network: run each node as a process of its own and release through the post's HTTP API (no backlog run, profile or trace)")
	backlog := fs.Int("backlog", 100000, "with --network: ROUTINE `cables` queued at the post before the FLASH runs (0: skip)")
	flashRuns := fs.Int("flash-runs", 30, "with --network: FLASH `cables` timed behind the backlog")
	runs := fs.Int("runs", 1, "with --network: `times` to measure throughput, each on a new network, raw JetStream beside each; the backlog runs once, after the last")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `file`: of the whole run, or with --network of the last run's release-to-stored part alone")
	traceFile := fs.String("trace", "", "with --network: write an execution trace of the last run's release-to-stored part to `file` (go tool trace)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *traceFile != "" && !*network {
		return cable.Errorf(cable.EINVALID, "--trace needs --network")
	}
	if *processes && !*network {
		return cable.Errorf(cable.EINVALID, "--processes needs --network")
	}
	if *processes {
		var refused []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "cpuprofile", "trace", "backlog", "flash-runs":
				refused = append(refused, "--"+f.Name)
			}
		})
		if len(refused) > 0 {
			return cable.Errorf(cable.EINVALID, "--processes takes no %s: the backlog run, the profile and the trace are of the nodes in one process (--network alone)", strings.Join(refused, ", "))
		}
	}
	if !*network {
		stop, err := (&measuredPart{cpuProfile: *cpuProfile}).start()
		if err != nil {
			return err
		}
		defer stop()
	}
	tmp, err := os.MkdirTemp("", "cable-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if *network {
		if *runs < 1 {
			return cable.Errorf(cable.EINVALID, "--runs must be at least 1")
		}
		progress := stderr
		var spawn spawnFunc
		if *processes {
			if spawn, err = selfSpawn(); err != nil {
				return err
			}
		}
		var all []*netBench
		for i := range *runs {
			bl, fr := 0, 0
			if i == *runs-1 {
				bl, fr = *backlog, *flashRuns
			}
			var watch *measuredPart
			if i == *runs-1 {
				watch = &measuredPart{cpuProfile: *cpuProfile, trace: *traceFile}
			}
			var nb *netBench
			var err error
			if *processes {
				nb, err = benchNetworkProcesses(ctx, filepath.Join(tmp, fmt.Sprint("run", i)), spawn, *n, *workers, progress)
			} else {
				nb, err = benchNetwork(ctx, filepath.Join(tmp, fmt.Sprint("run", i)), *n, *workers, bl, fr, watch, progress)
			}
			if err != nil {
				return err
			}
			all = append(all, nb)
		}
		nb := all[len(all)-1]
		if *asJSON {
			if *runs == 1 {
				return json.NewEncoder(stdout).Encode(nb)
			}
			return json.NewEncoder(stdout).Encode(map[string]any{"runs": all, "median_ratio": medianRatio(all)})
		}
		shape := "three nodes in this process"
		if *processes {
			shape = "three processes"
		}
		fmt.Fprintf(stdout, "%d cables of about 4 KB, %d releasing clients, %s joined by leaf links\n", *n, *workers, shape)
		for i, nb := range all {
			if *runs > 1 {
				fmt.Fprintf(stdout, " run %d\n", i+1)
			}
			for _, r := range []struct {
				when string
				benchResult
			}{{"before", nb.RawBefore}, {"", nb.Cables}, {"after", nb.Raw}} {
				fmt.Fprintf(stdout, "  %-72s %8.0f cables/s  (%.2fs, %.2f ms CPU a cable)\n", strings.TrimSpace(r.Name+" "+r.when), r.PerSecond, r.Seconds, r.CPUPerCable)
			}
			fmt.Fprintf(stdout, "  ours / raw (mean of before and after): %.2f\n", nb.Ratio)
			if len(nb.NodeCPU) > 0 {
				fmt.Fprintf(stdout, "  CPU a cable by process: STATE %.2f ms, WAR %.2f ms, MOSCOW %.2f ms, clients %.2f ms\n",
					nb.NodeCPU["STATE"], nb.NodeCPU["WAR"], nb.NodeCPU["MOSCOW"], nb.NodeCPU["clients"])
			}
		}
		if *runs > 1 {
			fmt.Fprintf(stdout, " median ours / raw over %d runs: %.2f\n", *runs, medianRatio(all))
		}
		for _, p := range cable.Precedences() {
			if l, ok := nb.Latency[p.String()]; ok {
				fmt.Fprintf(stdout, "  latency under load %-9s n=%-5d p50 %8.1f ms  p99 %8.1f ms  max %8.1f ms\n", p, l.N, l.P50, l.P99, l.Max)
			}
		}
		if nb.Flash != nil {
			fmt.Fprintf(stdout, "  FLASH behind %d ROUTINE: n=%d p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", nb.Backlog, nb.Flash.N, nb.Flash.P50, nb.Flash.P99, nb.Flash.Max)
		}
		return nil
	}

	ours, err := benchReleasePath(ctx, filepath.Join(tmp, "node"), *n, *workers)
	if err != nil {
		return fmt.Errorf("release path: %w", err)
	}
	text := ours.sample
	rawAsync, err := benchRawJetStream(ctx, filepath.Join(tmp, "raw-async"), text, *n, true)
	if err != nil {
		return fmt.Errorf("raw JetStream: %w", err)
	}
	rawSync, err := benchRawJetStream(ctx, filepath.Join(tmp, "raw-sync"), text, *n, false)
	if err != nil {
		return fmt.Errorf("raw JetStream: %w", err)
	}
	results := []benchResult{ours.result, rawAsync, rawSync}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(results)
	}
	fmt.Fprintf(stdout, "%d cables of %d bytes, %d releasing clients\n", *n, len(text), *workers)
	for _, r := range results {
		fmt.Fprintf(stdout, "  %-44s %9.0f cables/s  (%.2fs)\n", r.Name, r.PerSecond, r.Seconds)
	}
	fmt.Fprintf(stdout, "  (all %d released after %.2fs)\n", *n, ours.released.Seconds())
	fmt.Fprintf(stdout, "  release path / raw async publish: %.2f\n", ours.result.PerSecond/rawAsync.PerSecond)
	fmt.Fprintf(stdout, "  release path / raw sync publish:  %.2f\n", ours.result.PerSecond/rawSync.PerSecond)
	return nil
}

type releaseBench struct {
	result benchResult
	// released is how long the releases took, before the last receipt.
	released time.Duration
	sample   []byte
}

// benchCable is a cable of about 4 KB.
func benchCable(i int) *cable.Cable {
	body := "The Embassy reports on the day's developments in the capital, with the views of officials, the press and contacts across the government, for the Department's information and for such action as it may judge useful. "
	var paras []cable.Paragraph
	for n := 1; n <= 4; n++ {
		text := ""
		for len(text) < 900 {
			text += body
		}
		paras = append(paras, cable.Paragraph{Number: n, Classification: cable.Confidential, Text: text})
	}
	return &cable.Cable{
		Station: "MOSCOW", Precedence: cable.Routine, Classification: cable.Confidential,
		To:   []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}},
		Tags: []string{"PREL", "UR"}, Subject: fmt.Sprintf("DAILY REPORT NUMBER %d", i),
		Paragraphs: paras, Signature: "HOLLOWAY",
		Authority: &cable.Authority{ClassifiedBy: "DAVID HOLLOWAY, POLITICAL COUNSELOR", Reason: "1.4 (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: time.Now().UTC().AddDate(10, 0, 0).Truncate(24 * time.Hour)}},
	}
}

// benchReleasePath releases n cables from MOSCOW to STATE through the
// real release path (validation, serial, SQLite, outbox, embedded
// JetStream, receipt, distribution) and times it until the last is stored
// at STATE.
func benchReleasePath(ctx context.Context, data string, n, workers int) (releaseBench, error) {
	var out releaseBench
	d := dataDir{path: data}
	if err := d.ensure(); err != nil {
		return out, err
	}
	dir, err := d.directory()
	if err != nil {
		return out, err
	}
	rules, err := d.rules(dir)
	if err != nil {
		return out, err
	}
	rec, err := sqlite.Open(ctx, filepath.Join(data, databaseFile))
	if err != nil {
		return out, err
	}
	defer rec.Close()
	stations := []string{"MOSCOW", "STATE"}
	if err := demoKeys(data, stations); err != nil {
		return out, err
	}
	keys, err := seal.OpenKeyrings(filepath.Join(data, "keys"), stations)
	if err != nil {
		return out, err
	}
	tr, err := nats.Open(ctx, nats.Options{StoreDir: filepath.Join(data, jetstreamDir), Stations: stations, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return out, err
	}
	defer tr.Close()
	c, err := centre.New(centre.Config{Records: rec, Transport: tr, Form: newForm(dir), Directory: dir, Rules: rules,
		Stations: stations, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sealer: keys})
	if err != nil {
		return out, err
	}
	u := &cable.User{Name: "bench", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	if err := rec.CreateUser(ctx, u, "x"); err != nil {
		return out, err
	}
	reader := &cable.User{Name: "bench.eur", Station: "STATE", Offices: []string{"EUR"}, Clearance: cable.Secret}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Run(runCtx) }()
	defer func() { cancel(); wg.Wait() }()

	start := time.Now()
	var next atomic.Int64
	errc := make(chan error, workers)
	var rw sync.WaitGroup
	for w := 0; w < workers; w++ {
		rw.Add(1)
		go func() {
			defer rw.Done()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if _, err := c.Release(ctx, u, benchCable(i)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	rw.Wait()
	releasedIn := time.Since(start)
	select {
	case err := <-errc:
		return out, err
	default:
	}
	for {
		_, total, err := c.Inbox(ctx, reader, "EUR", cable.CableFilter{Limit: 1})
		if err != nil {
			return out, err
		}
		if total >= n {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return out, fmt.Errorf("only %d of %d cables received after 10 minutes", total, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	out.released = releasedIn
	out.result = benchResult{Name: "release to stored at STATE (cable)", Cables: n, Seconds: secs, PerSecond: float64(n) / secs}
	sent, _, err := c.Sent(ctx, u, cable.CableFilter{Limit: 1})
	if err != nil || len(sent) == 0 {
		return out, fmt.Errorf("no sent cable to sample: %v", err)
	}
	r, err := rec.Cable(ctx, sent[0].ID)
	if err != nil {
		return out, err
	}
	out.sample = r.Text
	return out, nil
}

// benchRawJetStream publishes n copies of text to a file-storage stream
// on an identical embedded server: asynchronously with all acks awaited,
// or one synchronous publish at a time.
func benchRawJetStream(ctx context.Context, storeDir string, text []byte, n int, async bool) (benchResult, error) {
	srv, err := natsserver.NewServer(&natsserver.Options{
		JetStream: true, StoreDir: storeDir, DontListen: true, NoSigs: true, MaxPayload: 8 << 20,
	})
	if err != nil {
		return benchResult{}, err
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10*time.Second) || !srv.JetStreamEnabled() {
		return benchResult{}, fmt.Errorf("embedded NATS server with JetStream did not start")
	}
	nc, err := natsgo.Connect("", natsgo.InProcessServer(srv))
	if err != nil {
		return benchResult{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return benchResult{}, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage}); err != nil {
		return benchResult{}, err
	}
	start := time.Now()
	if async {
		for i := 0; i < n; i++ {
			if _, err := js.PublishAsync("raw.STATE.R", text, jetstream.WithStallWait(30*time.Second)); err != nil {
				return benchResult{}, err
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(5 * time.Minute):
			return benchResult{}, fmt.Errorf("publish acks did not arrive")
		}
	} else {
		for i := 0; i < n; i++ {
			if _, err := js.Publish(ctx, "raw.STATE.R", text); err != nil {
				return benchResult{}, err
			}
		}
	}
	secs := time.Since(start).Seconds()
	name := "raw JetStream publish, sync (one at a time)"
	if async {
		name = "raw JetStream publish, async (all acks awaited)"
	}
	return benchResult{Name: name, Cables: n, Seconds: secs, PerSecond: float64(n) / secs}, nil
}

// medianRatio is the median of the runs' ours / raw.
func medianRatio(runs []*netBench) float64 {
	rs := make([]float64, len(runs))
	for i, r := range runs {
		rs[i] = r.Ratio
	}
	slices.Sort(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}
