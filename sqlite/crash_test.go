package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
)

var feb = time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC)

const crashEnv = "CABLE_SQLITE_CRASH_CHILD"

// TestCrashChild is the child of TestCrashRelease: it releases cables in
// batches of one to three against the file named by CABLE_SQLITE_CRASH_CHILD,
// printing each committed serial, until it is killed (or a minute passes).
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashRelease")
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("open")
	out := bufio.NewWriter(os.Stdout)
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		n := 1 + i%3
		reqs := make([]*cable.ReleaseRequest, n)
		for j := range reqs {
			c := storetest.Cable("MOSCOW", feb, fmt.Sprintf("crash %d.%d", i, j), storetest.Text(2000, i*3+j))
			reqs[j] = &cable.ReleaseRequest{Cable: c, Render: storetest.Render, Actor: "child"}
		}
		if err := db.Release(context.Background(), reqs); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		for _, r := range reqs {
			fmt.Fprintln(out, "ok", r.Cable.Serial)
		}
		out.Flush()
	}
	os.Exit(0)
}

// TestCrashRelease kills a process that releases cables at a random
// moment, several times over, and checks after each kill that the serials
// held are exactly 1..N, that every serial the child saw committed is
// held, and that every text is intact and the log verifies.
func TestCrashRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	path := filepath.Join(t.TempDir(), "records.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := 0
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait until the child has the file open, then let it work for
		// a random while; the first round may kill it while it creates
		// the schema.
		kill := time.After(time.Duration(30+rng.IntN(400)) * time.Millisecond)
		early := round == 0 && rng.IntN(2) == 0
		if early {
			kill = time.After(time.Duration(rng.IntN(30)) * time.Millisecond)
		}
		opened := false
		killed := false
		stuck := time.After(30 * time.Second)
		for !killed {
			select {
			case <-stuck:
				cmd.Process.Kill()
				t.Fatalf("round %d: child did not open the file in 30s", round)
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child ended before it was killed", round)
				}
				switch f := strings.Fields(l); {
				case l == "open":
					opened = true
				case len(f) == 2 && f[0] == "ok":
					n, _ := strconv.Atoi(f[1])
					acked = max(acked, n)
				case len(f) > 0 && f[0] == "error":
					t.Fatalf("round %d: child: %s", round, l)
				}
			case <-kill:
				if !opened && !early {
					kill = time.After(20 * time.Millisecond)
					continue
				}
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		for l := range lines {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "ok" {
				n, _ := strconv.Atoi(f[1])
				acked = max(acked, n)
			}
		}
		cmd.Wait()

		db := open(t, path)
		n := checkSerials(t, db, acked)
		t.Logf("round %d: %d cables held, %d acknowledged", round, n, acked)
		db.Close()
	}
	if acked == 0 {
		t.Fatal("the child committed nothing in five rounds")
	}
}

// checkSerials checks that MOSCOW's 2026 serials are exactly 1..N with
// N >= acked, each cable and text intact, and the log verified; it
// returns N.
func checkSerials(t *testing.T, db *sqlite.DB, acked int) int {
	t.Helper()
	_, n, err := db.FindCables(ctx, cable.CableFilter{MaxClassification: cable.TopSecret, Station: "MOSCOW", Sent: true})
	if err != nil {
		t.Fatal(err)
	}
	if n < acked {
		t.Fatalf("%d cables held, but the child saw %d committed", n, acked)
	}
	for s := 1; s <= n; s++ {
		id := cable.Identifier(2026, "MOSCOW", s)
		rec, err := db.Cable(ctx, id)
		if err != nil {
			t.Fatalf("serial %d of %d: %v", s, n, err)
		}
		text, _ := storetest.Render(rec.Cable)
		if rec.Cable.Serial != s || string(text) != string(rec.Text) || cable.SHA256Hex(rec.Text) != rec.SHA256 {
			t.Fatalf("serial %d: cable %s serial %d, text intact %v", s, rec.Cable.ID, rec.Cable.Serial, string(text) == string(rec.Text))
		}
	}
	if _, err := db.Cable(ctx, cable.Identifier(2026, "MOSCOW", n+1)); cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Fatalf("serial %d beyond the count: %v", n+1, err)
	}
	rep, err := db.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Cables != n || rep.Events != n {
		t.Fatalf("Verify: %+v (want %d cables and events)", rep, n)
	}
	return n
}
