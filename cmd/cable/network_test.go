package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// testSpawn runs this test binary as `cable ARGS` (see TestMain).
func testSpawn(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CABLE_TEST_CHILD_ARGS="+strings.Join(args, "\x1f"))
	return cmd
}

func newTestNetwork(t *testing.T) *network {
	t.Helper()
	if testing.Short() {
		t.Skip("runs three processes")
	}
	nw, err := newNetwork(t.TempDir(), testSpawn, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.close)
	return nw
}

// TestNetworkKills is the short form of `cable chaos`: three processes
// (hub, relay, post) on loopback; cables released at the post, some long
// enough to travel in sections, while the hub, the relay and the post are
// killed with SIGKILL at random moments and restarted. Every cable the
// post released arrives at the hub exactly once, byte-identical, its
// signed receipt comes back, and the post's serials are gapless.
func TestNetworkKills(t *testing.T) {
	nw := newTestNetwork(t)
	for _, st := range networkStations {
		nw.extra[st] = []string{"--max-message", "16384"}
	}
	rep, err := nw.runKills(context.Background(), chaosConfig{
		Cables: 1500, Workers: 4, KillEvery: time.Second, Victims: networkStations,
		LargeEvery: 20, Timeout: 3 * time.Minute, Seed: uint64(time.Now().UnixNano()), Log: tLog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if !rep.ok() || rep.Sent < 1500 {
		t.Fatalf("not every cable arrived once: %s", rep)
	}
	if rep.Kills == 0 {
		t.Fatal("nothing was killed")
	}
}

// TestNetworkLinkCut cuts the post's link (the hub is down) while the
// post keeps releasing, then restores it: everything arrives, and the
// backlog is served FLASH first.
func TestNetworkLinkCut(t *testing.T) {
	nw := newTestNetwork(t)
	rep, flashFirst, err := nw.runLinkCut(context.Background(), 4*time.Second, 80, 5, 2*time.Minute, tLog{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if !rep.ok() || rep.Received != 85 {
		t.Fatalf("not every cable arrived once after the link came back: %s", rep)
	}
	if !flashFirst {
		t.Fatalf("the backlog was not served FLASH first: %v", rep.Order)
	}
}

// TestNetworkDiskBudget fills the relay's disk budget while the hub is
// down: the post sees back-pressure (the relay refuses custody, the cables
// stay with the post), an alert is raised, and when the hub returns
// everything arrives; nothing is dropped.
func TestNetworkDiskBudget(t *testing.T) {
	nw := newTestNetwork(t)
	nw.extra["WAR"] = []string{"--nats-max-bytes", "262144"}
	if err := nw.startAll(); err != nil {
		t.Fatal(err)
	}
	tok, err := nw.token("MOSCOW", "drafter.moscow")
	if err != nil {
		t.Fatal(err)
	}
	nw.kill("STATE")
	r := &releaser{url: nw.nodes["MOSCOW"].url, token: tok, client: &http.Client{Timeout: 30 * time.Second}}
	ctx := context.Background()
	acked := map[string]bool{}
	for i := range 120 { // about 700 KB sealed: more than the relay's 256 KiB
		id, err := r.release(ctx, benchCable(i))
		if err != nil {
			t.Fatal(err)
		}
		acked[id] = true
	}
	alerted := func(station, want string) bool {
		rec, err := nw.records(ctx, station)
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Close()
		evs, err := rec.Events(ctx, cable.EventFilter{Kind: cable.EventAlert})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if reason, _ := e.Detail["reason"].(string); strings.Contains(strings.ToLower(reason), want) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(90 * time.Second)
	for !alerted("MOSCOW", "next hop war refused custody: no space") || !alerted("WAR", "of its disk budget") {
		if time.Now().After(deadline) {
			t.Fatal("no alert at the post and the relay while the relay refused custody")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := nw.start("STATE"); err != nil {
		t.Fatal(err)
	}
	rep, err := nw.await(ctx, acked, time.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if !rep.ok() || rep.Sent != 120 || rep.Received != rep.Released {
		t.Fatalf("cables dropped under back-pressure: %s", rep)
	}
}

type tLog struct{ t *testing.T }

func (l tLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestNetworkKeyRotation rotates keys while the network runs, with the
// operators' commands: MOSCOW rotates and releases a cable signed under
// its new generation before STATE trusts it; STATE holds the cable (no
// refusal, no security event) and stores it once its operator trusts the
// new identity. Then STATE rotates: MOSCOW keeps encrypting to the old
// generation until it trusts the new one, and both arrive.
func TestNetworkKeyRotation(t *testing.T) {
	nw := newTestNetwork(t)
	if err := nw.startAll(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := nw.token("MOSCOW", "drafter.moscow")
	if err != nil {
		t.Fatal(err)
	}
	r := &releaser{url: nw.nodes["MOSCOW"].url, token: tok, client: &http.Client{Timeout: 30 * time.Second}}
	acked := map[string]bool{}
	release := func(i int) string {
		t.Helper()
		id, err := r.release(ctx, benchCable(i))
		if err != nil {
			t.Fatal(err)
		}
		acked[id] = true
		return id
	}
	station := func(args ...string) []byte {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, append([]string{"station"}, args...), nil, &out, &errb); err != nil {
			t.Fatalf("cable station %v: %v: %s", args, err, errb.String())
		}
		return out.Bytes()
	}
	exchange := func(from, to string) {
		t.Helper()
		pub := filepath.Join(t.TempDir(), from+".pub")
		if err := os.WriteFile(pub, station("export", "--data", nw.nodes[from].data, "--station", from), 0o644); err != nil {
			t.Fatal(err)
		}
		station("trust", "--data", nw.nodes[to].data, "--station", to, pub)
	}
	holds := func(id string) bool {
		rec, err := nw.records(ctx, "STATE")
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Close()
		got, err := rec.Cable(ctx, id)
		return err == nil && got.DeliveryFor("STATE") != nil
	}
	arrives := func(id string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !holds(id) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not at STATE", id)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	arrives(release(1))

	station("rotate", "--data", nw.nodes["MOSCOW"].data, "--station", "MOSCOW")
	time.Sleep(6 * time.Second) // the node reads its keys again every 5 seconds
	waiting := release(2)
	time.Sleep(5 * time.Second)
	if holds(waiting) {
		t.Fatal("a cable signed under a generation STATE does not trust yet was stored")
	}
	exchange("MOSCOW", "STATE")
	arrives(waiting)

	station("rotate", "--data", nw.nodes["STATE"].data, "--station", "STATE")
	time.Sleep(6 * time.Second)
	arrives(release(3)) // still sealed to STATE's first generation
	exchange("STATE", "MOSCOW")
	time.Sleep(6 * time.Second)
	arrives(release(4)) // sealed to the second

	rep, err := nw.await(ctx, acked, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ok() {
		t.Fatalf("after rotations: %s", rep)
	}
	rec, err := nw.records(ctx, "STATE")
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	evs, err := rec.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity})
	if err != nil || len(evs) != 0 {
		t.Fatalf("security events at STATE during rotation: %v %v", evs, err)
	}
}
