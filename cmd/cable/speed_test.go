package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSpeedOfService runs a post alone, its link to the relay down: a
// FLASH cable to STATE waits in the post's custody. Past FLASH's
// ten-minute objective (not before) the watch raises one overdue alert,
// as an event, a metric and the sent list's state; a second pass raises
// nothing more.
func TestSpeedOfService(t *testing.T) {
	clock := &testClock{t: time.Now().UTC()}
	data := t.TempDir()
	moscow, err := seal.Init(keysDir(data, "MOSCOW"), "MOSCOW")
	if err != nil {
		t.Fatal(err)
	}
	stateKeys, err := seal.Init(keysDir(t.TempDir(), "STATE"), "STATE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moscow.Trust(stateKeys.Export()); err != nil {
		t.Fatal(err)
	}
	n := startTestNodeWith(t, nodeConfig{Data: data, Stations: []string{"MOSCOW"}, Now: clock.Now, WatchInterval: time.Hour})
	ctx := context.Background()
	drafter := user(t, n, "drafter.moscow")
	c := benchCable(1)
	c.Precedence = cable.Flash
	rec, err := n.centre.Release(ctx, drafter, c)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(9 * time.Minute)
	if got, err := n.centre.WatchOnce(ctx); err != nil || got != 0 {
		t.Fatalf("after 9 minutes: %d overdue, %v", got, err)
	}
	clock.Add(2 * time.Minute)
	if got, err := n.centre.WatchOnce(ctx); err != nil || got != 1 {
		t.Fatalf("after 11 minutes: %d overdue, %v (want the FLASH cable only)", got, err)
	}
	if got, err := n.centre.WatchOnce(ctx); err != nil || got != 0 {
		t.Fatalf("second pass: %d overdue, %v", got, err)
	}
	evs, err := n.records.Events(ctx, cable.EventFilter{Kind: cable.EventOverdue, CableID: rec.Cable.ID})
	if err != nil || len(evs) != 1 {
		t.Fatalf("overdue events: %v %v", evs, err)
	}
	if evs[0].Detail["destination"] != "STATE" || evs[0].Detail["precedence"] != "FLASH" || evs[0].Detail["objective"] != "10m0s" {
		t.Errorf("overdue event detail: %v", evs[0].Detail)
	}
	sent, _, err := n.centre.Sent(ctx, drafter, cable.CableFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var state string
	for _, s := range sent {
		if s.ID == rec.Cable.ID && len(s.Transmissions) == 1 {
			state = s.Transmissions[0].Describe(s.Precedence, clock.Now())
		}
	}
	if state != "overdue, queued" {
		t.Errorf("sent list says %q, want \"overdue, queued\"", state)
	}
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `cable_overdue_total{precedence="FLASH"} 1`) {
		t.Error("metrics lack cable_overdue_total for FLASH")
	}
}

// TestPostSeesWhereItsCablesAre: with the hub down, a cable released at
// the post is shown in transit at the relay once the relay has custody;
// with the hub back, received, with the hub's control number.
func TestPostSeesWhereItsCablesAre(t *testing.T) {
	nw, err := newNetwork(t.TempDir(), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := &inProcess{nw: nw, log: testLogger(t), nodes: map[string]*node{}}
	defer p.close()
	ctx := context.Background()
	for _, st := range []string{"MOSCOW", "WAR"} {
		if err := p.start(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	post := p.nodes["MOSCOW"]
	drafter, _, err := post.records.UserByName(ctx, "drafter.moscow")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := post.centre.Release(ctx, drafter, benchCable(1))
	if err != nil {
		t.Fatal(err)
	}
	toState := func() cable.TransmissionState {
		r, err := post.records.Cable(ctx, rec.Cable.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range r.Transmissions {
			if tr.Destination == "STATE" {
				return tr
			}
		}
		t.Fatalf("no transmission to STATE: %+v", r.Transmissions)
		return cable.TransmissionState{}
	}
	waitUntil(t, "the cable in transit at WAR", func() bool {
		st := toState()
		return st.State == cable.TransmissionSent && st.Hop == "WAR"
	})
	if err := p.start(ctx, "STATE"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the receipt from STATE", func() bool { return toState().State == cable.TransmissionReceived })
	if st := toState(); st.ControlNumber == "" || st.ReceivedAt == nil {
		t.Errorf("received without control number or time: %+v", st)
	}
}

// waitUntil polls cond until it holds, failing the test after a generous
// deadline: a guard against hanging, not a timing assertion.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBenchNetworkSmall runs `cable bench --network` on a few cables, the
// backlog and FLASH runs included, so that the harness behind the
// published figures keeps working.
func TestBenchNetworkSmall(t *testing.T) {
	nb, err := benchNetwork(context.Background(), t.TempDir(), 40, 4, 60, 2, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if nb.Cables.Cables != 40 || nb.Cables.PerSecond <= 0 || nb.Raw.PerSecond <= 0 || nb.RawBefore.PerSecond <= 0 || nb.Ratio <= 0 {
		t.Errorf("figures: %+v", nb)
	}
	if runtime.GOOS == "linux" && (nb.Cables.CPUPerCable <= 0 || nb.Raw.CPUPerCable <= 0) {
		t.Errorf("CPU a cable not measured: ours %v ms, raw %v ms", nb.Cables.CPUPerCable, nb.Raw.CPUPerCable)
	}
	n := 0
	for _, l := range nb.Latency {
		n += l.N
	}
	if n != 40 {
		t.Errorf("latencies of %d cables, want 40", n)
	}
	if nb.Flash == nil || nb.Flash.N != 2 || nb.Backlog != 60 {
		t.Errorf("FLASH behind the backlog: %+v (backlog %d)", nb.Flash, nb.Backlog)
	}
}

// TestBenchNetworkProcessesSmall runs `cable bench --network --processes`
// on a few cables: three processes, releases over the post's HTTP API,
// the hub's count read from its /metrics.
func TestBenchNetworkProcessesSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three processes")
	}
	nb, err := benchNetworkProcesses(context.Background(), t.TempDir(), testSpawn, 40, 4, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if nb.Cables.Cables != 40 || nb.Cables.PerSecond <= 0 || nb.Raw.PerSecond <= 0 || nb.RawBefore.PerSecond <= 0 || nb.Ratio <= 0 {
		t.Errorf("figures: %+v", nb)
	}
	if runtime.GOOS == "linux" {
		if nb.Cables.CPUPerCable <= 0 || nb.Raw.CPUPerCable <= 0 {
			t.Errorf("CPU a cable not measured: ours %v ms, raw %v ms", nb.Cables.CPUPerCable, nb.Raw.CPUPerCable)
		}
		// Each node's share is counted, not only this process's.
		for _, p := range []string{"STATE", "WAR", "MOSCOW", "clients"} {
			if nb.NodeCPU[p] <= 0 {
				t.Errorf("CPU of %s not measured: %v", p, nb.NodeCPU)
			}
		}
	}
	n := 0
	for _, l := range nb.Latency {
		n += l.N
	}
	if n != 40 {
		t.Errorf("latencies of %d cables, want 40", n)
	}
}

func TestReceivedCount(t *testing.T) {
	text := `# HELP cable_received_total Cables received and distributed, by receiving station.
# TYPE cable_received_total counter
cable_received_total{station="STATE"} 1.2345e+06
cable_received_total{station="STATEX"} 7
cable_released_total{station="STATE"} 3
`
	for station, want := range map[string]int{"STATE": 1234500, "STATEX": 7, "WAR": 0} {
		got, err := receivedCount(strings.NewReader(text), station)
		if err != nil || got != want {
			t.Errorf("receivedCount(%s) = %d, %v; want %d", station, got, err, want)
		}
	}
	if _, err := receivedCount(strings.NewReader(`cable_received_total{station="STATE"} many`), "STATE"); err == nil {
		t.Error("a count that is not a number was read")
	}
}

func TestPidCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	start := time.Now()
	before, ok := pidCPU(os.Getpid())
	if !ok {
		t.Fatal("pidCPU cannot read this process")
	}
	// Spin until a clock tick (10 ms) is counted, for at most 5 s.
	after := before
	for after == before && time.Since(start) < 5*time.Second {
		after, _ = pidCPU(os.Getpid())
	}
	if spun := time.Since(start); after <= before || after-before > 2*spun+20*time.Millisecond {
		t.Errorf("pidCPU went from %v to %v over %v of spinning", before, after, spun)
	}
	if got, ok := pidCPU(-1); ok || got != 0 {
		t.Errorf("pidCPU of no process = %v, %v", got, ok)
	}
}

// FuzzReceivedCount reads arbitrary text as a /metrics page: it never
// panics, and a page with the station's sample as a line of its own gives
// that sample's count, whatever surrounds it.
func FuzzReceivedCount(f *testing.F) {
	f.Add("cable_received_total{station=\"STATE\"} 12\n", "# HELP x\n", uint32(7))
	f.Add("", "cable_received_total{station=\"STATE\"} x", uint32(0))
	f.Fuzz(func(t *testing.T, before, after string, n uint32) {
		receivedCount(strings.NewReader(before+after), "STATE")
		if strings.Contains(before, `cable_received_total{station="STATE"} `) || len(before) > 32<<10 {
			return // an earlier sample comes first; a line too long for a metrics page
		}
		page := before + "\ncable_received_total{station=\"STATE\"} " + strconv.FormatUint(uint64(n), 10) + "\n" + after
		got, err := receivedCount(strings.NewReader(page), "STATE")
		if err != nil || got != int(n) {
			t.Fatalf("receivedCount = %d, %v; want %d", got, err, n)
		}
	})
}
