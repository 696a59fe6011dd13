package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"time"

	cable "github.com/cable-archive/cable"
)

const chaosUsage = `chaos [flags]

Runs the network's fault tests in their long form against real processes:
a hub (STATE), a relay (WAR) and a post (MOSCOW), each a "cable serve" of
this executable on loopback with its own data directory, keys and
JetStream domain. It releases cables at the post from several clients
while killing random processes with SIGKILL and restarting them, then
cuts the post's link (stops the hub) while releasing ROUTINE and then
FLASH cables, and restores it. It prints sent / received / lost /
duplicated counts for each part and exits 1 unless every cable the post
released arrived at the hub exactly once, byte-identical, with its
receipt back at the post, serials gapless, and the backlog drained
FLASH first.`

func runChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("chaos", chaosUsage, stdout, stderr)
	cables := fs.Int("cables", 10000, "cables to release at the post while processes are killed")
	workers := fs.Int("workers", 8, "concurrent clients releasing at the post")
	killEvery := fs.Duration("kill-every", 3*time.Second, "mean `time` between kills (0: none)")
	victims := fs.String("victims", "STATE,WAR,MOSCOW", "comma-separated `stations` whose processes may be killed")
	largeEvery := fs.Int("large-every", 25, "every `n`-th cable is long enough to travel in sections (0: none)")
	maxMessage := fs.Int("max-message", 16<<10, "the channel's message limit in `bytes`, small so that long cables go in sections")
	outage := fs.Duration("link-cut", 20*time.Second, "how long the post's link is cut (0: skip)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for everything to arrive")
	dir := fs.String("dir", "", "`directory` for the nodes' data (default: a new temporary one, removed after)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random `seed` for the kills")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	spawn, err := selfSpawn()
	if err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "cable-chaos-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	progress := stderr
	if *asJSON {
		progress = io.Discard
	}
	res, err := chaos(ctx, *dir, spawn, stderr, chaosConfig{
		Cables: *cables, Workers: *workers, KillEvery: *killEvery, Victims: splitList(*victims),
		LargeEvery: *largeEvery, Timeout: *timeout, Seed: *seed, Log: progress,
	}, *maxMessage, *outage)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "kills:    %s\n", res.Kills)
		if res.LinkCut != nil {
			fmt.Fprintf(stdout, "link cut: %s, backlog drained FLASH first: %v\n", *res.LinkCut, res.FlashFirst)
		}
	}
	if !res.OK {
		return exitError{1}
	}
	return nil
}

// chaosResult is what `cable chaos` reports.
type chaosResult struct {
	Kills      networkReport  `json:"kills"`
	LinkCut    *networkReport `json:"link_cut,omitempty"`
	FlashFirst bool           `json:"flash_first"`
	OK         bool           `json:"ok"`
}

// chaos runs the kill scenario, then the link-cut scenario, on a network
// under dir.
func chaos(ctx context.Context, dir string, spawn spawnFunc, stderr io.Writer, cfg chaosConfig, maxMessage int, outage time.Duration) (chaosResult, error) {
	var res chaosResult
	nw, err := newNetwork(dir, spawn, stderr)
	if err != nil {
		return res, err
	}
	defer nw.close()
	if maxMessage > 0 {
		for _, st := range networkStations {
			nw.extra[st] = append(nw.extra[st], "--max-message", fmt.Sprint(maxMessage))
		}
	}
	if res.Kills, err = nw.runKills(ctx, cfg); err != nil {
		return res, err
	}
	res.OK = res.Kills.ok()
	if outage > 0 {
		rep, flashFirst, err := nw.runLinkCut(ctx, outage, 200, 10, cfg.Timeout, cfg.Log)
		if err != nil {
			return res, err
		}
		res.LinkCut, res.FlashFirst = &rep, flashFirst
		res.OK = res.OK && rep.ok() && flashFirst
	}
	return res, nil
}

// runLinkCut stops the hub, releases routine ROUTINE cables and then
// flash FLASH cables at the post while the link is down, waits out the
// outage, restarts the hub, and reports whether everything arrived and
// the backlog was served FLASH first.
func (nw *network) runLinkCut(ctx context.Context, outage time.Duration, routine, flash int, timeout time.Duration, log io.Writer) (networkReport, bool, error) {
	if err := nw.startAll(); err != nil {
		return networkReport{}, false, err
	}
	// What is already on its way (the demo traffic, an earlier run) arrives first.
	before, err := nw.await(ctx, nil, time.Now().Add(timeout))
	if err != nil {
		return networkReport{}, false, err
	}
	tok, err := nw.token("MOSCOW", "drafter.moscow")
	if err != nil {
		return networkReport{}, false, err
	}
	r := &releaser{url: nw.nodes["MOSCOW"].url, token: tok, client: &http.Client{Timeout: 30 * time.Second}}
	if log != nil {
		fmt.Fprintf(log, "chaos: link cut: stopping the hub for %s\n", outage)
	}
	cut := time.Now()
	nw.kill("STATE")
	acked := map[string]bool{}
	backlog := map[string]cable.Precedence{}
	for i := range routine + flash {
		c := benchCable(100000 + i)
		if i >= routine {
			c.Precedence = cable.Flash
		}
		id, err := r.release(ctx, c)
		if err != nil {
			return networkReport{}, false, fmt.Errorf("release while the link is cut: %w", err)
		}
		acked[id] = true
		backlog[id] = c.Precedence
	}
	if rest := outage - time.Since(cut); rest > 0 {
		time.Sleep(rest)
	}
	if err := nw.start("STATE"); err != nil {
		return networkReport{}, false, err
	}
	if log != nil {
		fmt.Fprintf(log, "chaos: link cut: hub back after %s\n", time.Since(cut).Round(time.Second))
	}
	rep, err := nw.await(ctx, acked, time.Now().Add(timeout))
	if err != nil {
		return rep, false, err
	}
	rep.Sent = len(acked)
	// Within the backlog, every FLASH cable arrives before every ROUTINE one.
	lastFlash, firstRoutine := -1, len(rep.Order)
	pos := 0
	for _, id := range rep.Order {
		p, ok := backlog[id]
		if !ok {
			continue
		}
		if p == cable.Flash {
			lastFlash = pos
		} else if pos < firstRoutine {
			firstRoutine = pos
		}
		pos++
	}
	rep.Released -= before.Released
	rep.Received -= before.Received
	rep.Receipted -= before.Receipted
	return rep, lastFlash < firstRoutine && lastFlash >= 0, nil
}

type spawnFunc = func([]string) *exec.Cmd

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
