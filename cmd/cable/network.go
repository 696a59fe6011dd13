package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

// network is the demo network as separate processes on loopback: the hub
// STATE, the relay WAR and the post MOSCOW, each a `cable serve` with its
// own data directory, keys, JetStream domain and records, joined by
// leaf-node links MOSCOW -> WAR -> STATE. The chaos command and the fault
// tests drive it: they release at the post, kill and restart processes,
// cut the link, and count what arrives at the hub; `cable bench
// --network --processes` measures it.
type network struct {
	dir string
	// spawn makes the command that runs `cable` with args.
	spawn  func(args []string) *exec.Cmd
	stderr io.Writer
	// extra flags per station, for every start.
	extra map[string][]string
	nodes map[string]*netNode
}

// netNode is one process of the network.
type netNode struct {
	station string
	data    string
	addr    string // HTTP, fixed so that the URL survives restarts
	leaf    string // leaf-node listener, "" for the post
	hub     string // the leaf URL it joins, "" for the hub
	client  string // NATS client listener, for hostile-input tests
	url     string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// networkStations are the network's stations, hub first.
var networkStations = []string{"STATE", "WAR", "MOSCOW"}

// newNetwork makes the data directories under dir, each station's keys,
// and has MOSCOW and STATE trust each other as their operators would
// (export, trust). Nothing runs until start.
func newNetwork(dir string, spawn func([]string) *exec.Cmd, stderr io.Writer) (*network, error) {
	nw := &network{dir: dir, spawn: spawn, stderr: stderr, extra: map[string][]string{}, nodes: map[string]*netNode{}}
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	for i, st := range networkStations {
		n := &netNode{station: st, data: filepath.Join(dir, st), addr: ports[i]}
		if err := (dataDir{path: n.data}).ensure(); err != nil {
			return nil, err
		}
		if _, err := seal.Init(keysDir(n.data, st), st); err != nil {
			return nil, fmt.Errorf("keys of %s: %w", st, err)
		}
		nw.nodes[st] = n
	}
	state, war, moscow := nw.nodes["STATE"], nw.nodes["WAR"], nw.nodes["MOSCOW"]
	state.leaf, war.leaf = ports[3], ports[4]
	state.client, war.client, moscow.client = ports[5], ports[6], ports[7]
	war.hub, moscow.hub = "nats://"+state.leaf, "nats://"+war.leaf
	for _, pair := range [][2]string{{"MOSCOW", "STATE"}, {"STATE", "MOSCOW"}} {
		from, err := seal.Open(keysDir(nw.nodes[pair[0]].data, pair[0]))
		if err != nil {
			return nil, err
		}
		to, err := seal.Open(keysDir(nw.nodes[pair[1]].data, pair[1]))
		if err != nil {
			return nil, err
		}
		if _, err := to.Trust(from.Export()); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// freePorts returns n loopback addresses free now.
func freePorts(n int) ([]string, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

var servingURL = regexp.MustCompile(`serving stations .* at (http://\S+)`)

// start runs the station's process and waits until it serves.
func (nw *network) start(station string) error {
	n := nw.nodes[station]
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return nil
	}
	args := []string{"serve", "--demo", "--station", station, "--data", n.data, "--addr", n.addr, "--log-level", "error"}
	if n.leaf != "" {
		args = append(args, "--nats-listen", n.leaf)
	}
	if n.hub != "" {
		args = append(args, "--hub", n.hub)
	}
	if n.client != "" {
		args = append(args, "--nats-client-listen", n.client)
	}
	args = append(args, nw.extra[station]...)
	cmd := nw.spawn(args)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = nw.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", station, err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	select {
	case n.url = <-urlc:
	case <-exited:
		return fmt.Errorf("%s exited at start: %v", station, waitErr)
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s did not start within 90s", station)
	}
	n.cmd, n.exited = cmd, exited
	return nil
}

// startAll starts the hub, the relay and the post, in that order.
func (nw *network) startAll() error {
	for _, st := range networkStations {
		if err := nw.start(st); err != nil {
			return err
		}
	}
	return nil
}

// kill sends SIGKILL to the station's process and waits for it to die.
func (nw *network) kill(station string) { nw.signal(station, syscall.SIGKILL) }

// stop asks the station's process to shut down and waits for it.
func (nw *network) stop(station string) { nw.signal(station, syscall.SIGTERM) }

func (nw *network) signal(station string, sig syscall.Signal) {
	n := nw.nodes[station]
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(sig)
	select {
	case <-n.exited:
	case <-time.After(60 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
	}
	n.cmd = nil
}

// cpu returns the CPU time each running process of the network has used,
// by station, or false if any of them cannot be read.
func (nw *network) cpu() (map[string]time.Duration, bool) {
	out := map[string]time.Duration{}
	for st, n := range nw.nodes {
		n.mu.Lock()
		if n.cmd != nil {
			d, ok := pidCPU(n.cmd.Process.Pid)
			if !ok {
				n.mu.Unlock()
				return nil, false
			}
			out[st] = d
		}
		n.mu.Unlock()
	}
	return out, true
}

// exited returns the station of a process that was started and has
// exited since, or "".
func (nw *network) exited() string {
	for _, st := range networkStations {
		n := nw.nodes[st]
		n.mu.Lock()
		running := n.cmd != nil
		exited := n.exited
		n.mu.Unlock()
		if !running {
			continue
		}
		select {
		case <-exited:
			return st
		default:
		}
	}
	return ""
}

// close stops every process.
func (nw *network) close() {
	for i := len(networkStations) - 1; i >= 0; i-- {
		nw.stop(networkStations[i])
	}
}

// token makes an API bearer token for user at station.
func (nw *network) token(station, user string) (string, error) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--data", nw.nodes[station].data, "--user", user}, nil, &out, &errb); err != nil {
		return "", fmt.Errorf("token create at %s: %v: %s", station, err, errb.String())
	}
	return string(bytes.TrimSpace(out.Bytes())), nil
}

// records opens the station's records store beside its running process.
func (nw *network) records(ctx context.Context, station string) (cable.Records, error) {
	return dataDir{path: nw.nodes[station].data}.openRecords(ctx, "")
}

// releaser releases cables at the post through its HTTP API.
type releaser struct {
	url    string
	token  string
	client *http.Client
}

// release posts one cable and returns its identifier, or an error when
// the post did not acknowledge it (it may still have released it).
func (r *releaser) release(ctx context.Context, c *cable.Cable) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return r.post(ctx, body)
}

// post posts a cable already encoded as JSON, as release does.
func (r *releaser) post(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/api/v1/cables", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("release: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("release: no identifier in %q", b)
	}
	return out.ID, nil
}

// networkReport is what a run of the network delivered.
type networkReport struct {
	// Sent counts the releases the post acknowledged; Released every
	// cable the post holds as released (an unacknowledged release may
	// have committed before a kill).
	Sent     int `json:"sent"`
	Released int `json:"released"`
	// Received counts the post's cables held at the hub; Lost the
	// acknowledged ones not held there; Duplicated those received more
	// than once; Altered those whose text at the hub differs from the
	// post's.
	Received   int `json:"received"`
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	Altered    int `json:"altered"`
	// SerialGaps counts missing or repeated serials at the post.
	SerialGaps int `json:"serial_gaps"`
	// Receipted counts the transmissions the post knows received, from
	// the hub's signed receipts.
	Receipted int `json:"receipted"`
	Kills     int `json:"kills"`
	// Order is the post's cables in the order the hub received them
	// (by control number).
	Order []string `json:"-"`
}

func (r networkReport) String() string {
	return fmt.Sprintf("sent %d released %d received %d lost %d duplicated %d altered %d serial-gaps %d receipted %d kills %d",
		r.Sent, r.Released, r.Received, r.Lost, r.Duplicated, r.Altered, r.SerialGaps, r.Receipted, r.Kills)
}

// ok reports whether nothing was lost, duplicated or altered.
func (r networkReport) ok() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Altered == 0 && r.SerialGaps == 0 && r.Received == r.Released && r.Receipted == r.Released
}

// await waits until every cable the post released is held at the hub and
// receipted back at the post, or the deadline passes, then counts.
func (nw *network) await(ctx context.Context, acked map[string]bool, deadline time.Time) (networkReport, error) {
	var rep networkReport
	for {
		var err error
		rep, err = nw.count(ctx, acked)
		if err != nil {
			return rep, err
		}
		if rep.ok() || time.Now().After(deadline) {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// count compares the post's records with the hub's.
func (nw *network) count(ctx context.Context, acked map[string]bool) (networkReport, error) {
	rep := networkReport{Sent: len(acked)}
	post, err := nw.records(ctx, "MOSCOW")
	if err != nil {
		return rep, err
	}
	defer post.Close()
	hub, err := nw.records(ctx, "STATE")
	if err != nil {
		return rep, err
	}
	defer hub.Close()

	all := cable.CableFilter{MaxClassification: cable.TopSecret, CaptionMask: cable.CaptionMask(cable.AllCaptions()), Station: "MOSCOW", Sent: true, Limit: cable.MaxListLimit}
	var sent []*cable.Summary
	for {
		all.Offset = len(sent)
		page, total, err := post.FindCables(ctx, all)
		if err != nil {
			return rep, err
		}
		sent = append(sent, page...)
		if len(page) == 0 || len(sent) >= total {
			break
		}
	}
	rep.Released = len(sent)
	held := map[string]bool{}
	serials := map[int]int{}
	type arrival struct {
		id      string
		control int
	}
	var order []arrival
	for _, s := range sent {
		held[s.ID] = true
		serials[s.Serial]++
		for _, t := range s.Transmissions {
			if t.Destination == "STATE" && t.State == cable.TransmissionReceived {
				rep.Receipted++
			}
		}
		rec, err := hub.Cable(ctx, s.ID)
		if cable.ErrorCode(err) == cable.ENOTFOUND {
			continue
		} else if err != nil {
			return rep, err
		}
		d := rec.DeliveryFor("STATE")
		if d == nil {
			continue
		}
		rep.Received++
		mine, err := post.Cable(ctx, s.ID)
		if err != nil {
			return rep, err
		}
		if mine.SHA256 != rec.SHA256 || cable.SHA256Hex(rec.Text) != mine.SHA256 {
			rep.Altered++
		}
		n, _ := strconv.Atoi(d.Receipt.ControlNumber)
		order = append(order, arrival{s.ID, n})
	}
	for id := range acked {
		if !held[id] {
			rep.Lost++ // acknowledged, yet not even at the post
		}
	}
	for _, s := range sent {
		if acked[s.ID] {
			if rec, err := hub.Cable(ctx, s.ID); err != nil || rec.DeliveryFor("STATE") == nil {
				rep.Lost++
			}
		}
	}
	for i := 1; i <= len(sent); i++ {
		if serials[i] != 1 {
			rep.SerialGaps++
		}
	}
	times := map[string]int{}
	for f := (cable.EventFilter{Kind: cable.EventReceived, Limit: cable.MaxListLimit}); ; {
		evs, err := hub.Events(ctx, f)
		if err != nil {
			return rep, err
		}
		for _, e := range evs {
			if e.Station == "STATE" && held[e.CableID] {
				times[e.CableID]++
			}
			f.AfterSeq = e.Seq
		}
		if len(evs) < f.Limit {
			break
		}
	}
	for _, n := range times {
		if n > 1 {
			rep.Duplicated++
		}
	}
	sortArrivals := func(a []arrival) {
		for i := 1; i < len(a); i++ {
			for j := i; j > 0 && a[j].control < a[j-1].control; j-- {
				a[j], a[j-1] = a[j-1], a[j]
			}
		}
	}
	sortArrivals(order)
	for _, a := range order {
		rep.Order = append(rep.Order, a.id)
	}
	return rep, nil
}

// chaosConfig is a run of the kill scenario.
type chaosConfig struct {
	Cables  int
	Workers int
	// KillEvery is the mean time between kills; 0 kills nothing.
	KillEvery time.Duration
	// Victims are the stations that may be killed.
	Victims []string
	// LargeEvery makes every n-th cable large enough to go in sections.
	LargeEvery int
	Timeout    time.Duration
	Seed       uint64
	Log        io.Writer
}

// runKills releases cfg.Cables at the post from several clients while
// killing random processes with SIGKILL and restarting them, then waits
// for everything to arrive and counts.
func (nw *network) runKills(ctx context.Context, cfg chaosConfig) (networkReport, error) {
	if err := nw.startAll(); err != nil {
		return networkReport{}, err
	}
	tok, err := nw.token("MOSCOW", "drafter.moscow")
	if err != nil {
		return networkReport{}, err
	}
	r := &releaser{url: nw.nodes["MOSCOW"].url, token: tok, client: &http.Client{Timeout: 30 * time.Second}}
	var mu sync.Mutex
	acked := map[string]bool{}
	next := 0
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) >= cfg.Cables {
			return 0, false
		}
		next++
		return next, true
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok || runCtx.Err() != nil {
					return
				}
				c := chaosCable(i, cfg.LargeEvery)
				id, err := r.release(runCtx, c)
				if err != nil {
					// The post may be down: try again shortly.
					select {
					case <-runCtx.Done():
						return
					case <-time.After(200 * time.Millisecond):
					}
					continue
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		})
	}
	kills := 0
	var killErr error
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rng := newRand(cfg.Seed)
	var order []string
	if cfg.KillEvery > 0 && len(cfg.Victims) > 0 {
	loop:
		for {
			wait := cfg.KillEvery/2 + time.Duration(rng.Int64N(int64(cfg.KillEvery)))
			select {
			case <-done:
				break loop
			case <-ctx.Done():
				break loop
			case <-time.After(wait):
			}
			// Every station is killed in turn, in a random order each round.
			if len(order) == 0 {
				order = slices.Clone(cfg.Victims)
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			victim := order[0]
			order = order[1:]
			nw.kill(victim)
			kills++
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "chaos: kill -9 %s (%d cables acknowledged so far)\n", victim, n)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(time.Second))))
			if err := nw.start(victim); err != nil {
				killErr = err
				cancel()
				break loop
			}
		}
	}
	<-done
	if killErr != nil {
		return networkReport{}, killErr
	}
	if err := nw.startAll(); err != nil {
		return networkReport{}, err
	}
	rep, err := nw.await(ctx, acked, time.Now().Add(cfg.Timeout))
	rep.Kills = kills
	return rep, err
}

// chaosCable is the i-th cable of a chaos run: mostly ROUTINE, some of
// each higher precedence, every largeEvery-th one long enough to be sent
// in sections.
func chaosCable(i, largeEvery int) *cable.Cable {
	c := benchCable(i)
	switch {
	case i%50 == 0:
		c.Precedence = cable.Flash
	case i%10 == 0:
		c.Precedence = cable.Immediate
	case i%5 == 0:
		c.Precedence = cable.Priority
	}
	if largeEvery > 0 && i%largeEvery == 0 {
		base := c.Paragraphs[0].Text
		for n := 5; n <= 60; n++ {
			c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: n, Classification: cable.Confidential, Text: base})
		}
	}
	return c
}

var errChaosFailed = errors.New("chaos: cables lost, duplicated or altered")

// selfSpawn runs this executable with args.
func selfSpawn() (func([]string) *exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return func(args []string) *exec.Cmd { return exec.Command(self, args...) }, nil
}
