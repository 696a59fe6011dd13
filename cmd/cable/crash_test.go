package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// TestMain lets the crash test run this test binary as a `cable serve`
// child process that it can kill.
func TestMain(m *testing.M) {
	if args := os.Getenv("CABLE_TEST_CHILD_ARGS"); args != "" {
		ctx, stop := signalContext()
		err := run(ctx, strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var servingLine = regexp.MustCompile(`serving stations .* at (http://\S+)`)

// startChild runs `cable serve --demo` on data in a child process and
// returns it with its URL.
func startChild(t *testing.T, data string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CABLE_TEST_CHILD_ARGS="+strings.Join([]string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "error"}, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return cmd, u
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child node did not start")
	}
	return nil, ""
}

// TestKilledNodeLosesNothing releases cables through the API of a node
// that is killed with SIGKILL at random moments and restarted. Afterwards
// every cable the API acknowledged is held and received at STATE exactly
// once, byte-identical, and MOSCOW's serials have no gap.
func TestKilledNodeLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts processes")
	}
	data := t.TempDir()
	cmd, url := startChild(t, data)
	tok, err := captureToken(data, "drafter.moscow")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(benchCable(0))
	var mu sync.Mutex
	acknowledged := map[string]bool{}
	rounds := 3
	for round := 0; round < rounds; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest("POST", url+"/api/v1/cables", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						return // the node died under us
					}
					var out struct{ ID string }
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						mu.Lock()
						acknowledged[out.ID] = true
						mu.Unlock()
					} else if resp.StatusCode != http.StatusServiceUnavailable {
						t.Errorf("release: status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
		cmd, url = startChild(t, data)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	if len(acknowledged) == 0 {
		t.Fatal("no release was acknowledged")
	}

	// Wait for every released MOSCOW cable to be received at STATE.
	n := openRecordsForTest(t, data)
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var sent []*cable.Summary
	for {
		sent = sent[:0]
		for offset := 0; ; offset += 500 {
			page, total, err := n.FindCables(ctx, cable.CableFilter{MaxClassification: cable.TopSecret, CaptionMask: cable.CaptionMask(cable.AllCaptions()), Station: "MOSCOW", Sent: true, Offset: offset, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, page...)
			if len(page) == 0 || len(sent) >= total {
				break
			}
		}
		pending := 0
		for _, s := range sent {
			for _, tr := range s.Transmissions {
				if tr.State != cable.TransmissionReceived {
					pending++
				}
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transmissions still not received after restart", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	held := map[string]bool{}
	var serials []int
	for _, s := range sent {
		held[s.ID] = true
		serials = append(serials, s.Serial)
	}
	for id := range acknowledged {
		if !held[id] {
			t.Errorf("acknowledged cable %s is lost", id)
		}
	}
	sort.Ints(serials)
	for i, s := range serials {
		if s != i+1 {
			t.Fatalf("MOSCOW serials have a gap or repeat: %v", serials)
		}
	}
	for _, s := range sent {
		rec, err := n.Cable(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.SHA256 != cable.SHA256Hex(rec.Text) {
			t.Errorf("%s: text does not match its hash", s.ID)
		}
		if d := rec.DeliveryFor("STATE"); d == nil {
			t.Errorf("%s not received at STATE", s.ID)
		}
		evs, err := n.Events(ctx, cable.EventFilter{CableID: s.ID, Kind: cable.EventReceived})
		if err != nil {
			t.Fatal(err)
		}
		stateReceipts := 0
		for _, e := range evs {
			if e.Station == "STATE" {
				stateReceipts++
			}
		}
		if stateReceipts != 1 {
			t.Errorf("%s received %d times at STATE", s.ID, stateReceipts)
		}
	}
	rep, err := n.Verify(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v %v", err, rep)
	}
	t.Logf("%d rounds of SIGKILL: %d cables acknowledged, %d held, serials 1..%d gapless", rounds, len(acknowledged), len(sent), len(serials))
}

// captureToken runs `cable token create` against a live node's data directory.
func captureToken(data, user string) (string, error) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--data", data, "--user", user}, nil, &out, &errb); err != nil {
		return "", fmt.Errorf("token create: %v: %s", err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func openRecordsForTest(t *testing.T, data string) cable.Records {
	t.Helper()
	rec, err := dataDir{path: data}.openRecords(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec
}
