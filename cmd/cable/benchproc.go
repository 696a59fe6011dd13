package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// benchNetworkProcesses is benchNetwork with each node a process of its
// own, as stations are deployed: `cable serve --demo --station X` run by
// spawn, joined by leaf links over loopback, and cables
// released by workers clients through the post's HTTP API (a drafter's
// bearer token, the cable as JSON), as an officer's client releases them.
// The hub's count of cables received is read from its /metrics; the CPU
// time is the three processes' and this one's (the clients') together.
func benchNetworkProcesses(ctx context.Context, dir string, spawn spawnFunc, n, workers int, progress io.Writer) (*netBench, error) {
	nw, err := newNetwork(dir, spawn, progress)
	if err != nil {
		return nil, err
	}
	defer nw.close()
	if err := nw.startAll(); err != nil {
		return nil, err
	}
	token, err := nw.token("MOSCOW", "drafter.moscow")
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}}
	defer client.CloseIdleConnections()
	rel := &releaser{url: nw.nodes["MOSCOW"].url, token: token, client: client}
	hubMetrics := nw.nodes["STATE"].url + "/metrics"
	// cpu is the four processes' CPU time, 0 (not measured) where a
	// node's cannot be read.
	cpu := func() time.Duration {
		nodes, ok := nw.cpu()
		if !ok {
			return 0
		}
		total := processCPU()
		for _, d := range nodes {
			total += d
		}
		return total
	}
	out := &netBench{}

	// One cable through first: it warms the path, and its canonical text
	// is what raw JetStream carries.
	before, err := receivedAt(ctx, client, hubMetrics, "STATE")
	if err != nil {
		return nil, err
	}
	warm, err := rel.release(ctx, chaosCable(n+1, 0))
	if err != nil {
		return nil, err
	}
	if err := awaitReceived(ctx, nw, client, hubMetrics, before+1, 2*time.Minute); err != nil {
		return nil, err
	}
	sample, err := releasedText(ctx, nw, warm)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "bench: raw JetStream before, %d messages of %d bytes\n", n, len(sample))
	if out.RawBefore, err = benchRawAcross(ctx, nw, sample, n, cpu); err != nil {
		return nil, fmt.Errorf("raw JetStream: %w", err)
	}

	fmt.Fprintf(progress, "bench: %d cables MOSCOW -> WAR -> STATE, three processes\n", n)
	if before, err = receivedAt(ctx, client, hubMetrics, "STATE"); err != nil {
		return nil, err
	}
	// The drafts are encoded before the clock starts, as a load
	// generator prepares its load; each client's HTTP work is measured.
	bodies := make([][]byte, n)
	cables := benchDrafts(n)
	for i, c := range cables {
		if bodies[i], err = json.Marshal(c); err != nil {
			return nil, err
		}
	}
	cpu0 := cpu()
	nodes0, _ := nw.cpu()
	clients0 := processCPU()
	start := time.Now()
	ids, err := releaseAll(ctx, cables, workers, func(ctx context.Context, i int) (string, error) {
		return rel.post(ctx, bodies[i])
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "bench: %d released at MOSCOW in %.2fs\n", n, time.Since(start).Seconds())
	if err := awaitReceived(ctx, nw, client, hubMetrics, before+n, 20*time.Minute); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	out.Cables = benchResult{Name: "release at MOSCOW to stored at STATE via WAR, three processes, over HTTP", Cables: n, Seconds: secs, PerSecond: float64(n) / secs, CPUPerCable: cpuPer(cpu, cpu0, n)}
	if nodes, ok := nw.cpu(); ok && nodes0 != nil {
		out.NodeCPU = map[string]float64{"clients": cpuPerCable(clients0, n)}
		for st, d := range nodes {
			out.NodeCPU[st] = msPerCable(d-nodes0[st], n)
		}
	}

	hub, err := nw.records(ctx, "STATE")
	if err != nil {
		return nil, err
	}
	defer hub.Close()
	out.Latency, err = latencies(ids, func(id string) (time.Time, error) {
		rec, err := hub.Cable(ctx, id)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s counted at the hub: %w", id, err)
		}
		d := rec.DeliveryFor("STATE")
		if d == nil {
			return time.Time{}, fmt.Errorf("%s counted at the hub but not received there", id)
		}
		return d.Receipt.At, nil
	})
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "bench: raw JetStream after, %d messages of %d bytes\n", n, len(sample))
	if out.Raw, err = benchRawAcross(ctx, nw, sample, n, cpu); err != nil {
		return nil, fmt.Errorf("raw JetStream: %w", err)
	}
	out.Ratio = out.Cables.PerSecond / ((out.RawBefore.PerSecond + out.Raw.PerSecond) / 2)
	return out, nil
}

// releasedText is the canonical text of a cable the post released.
func releasedText(ctx context.Context, nw *network, id string) ([]byte, error) {
	post, err := nw.records(ctx, "MOSCOW")
	if err != nil {
		return nil, err
	}
	defer post.Close()
	rec, err := post.Cable(ctx, id)
	if err != nil {
		return nil, err
	}
	return rec.Text, nil
}

// awaitReceived waits until the hub's /metrics at url counts at least want
// cables received at STATE, or a node of nw exits. Reading the count
// rather than each cable's receipt costs the hub about a millisecond of
// CPU a look, a few percent of a core at one look every 50 ms (counted in
// the measurement, as the network's own work would be).
func awaitReceived(ctx context.Context, nw *network, client *http.Client, url string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := receivedAt(ctx, client, url, "STATE")
		if err != nil {
			return err
		}
		if got >= want {
			return nil
		}
		if st := nw.exited(); st != "" {
			return fmt.Errorf("%s exited with %d of %d cables received at the hub", st, got, want)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d cables received at the hub after %s, want %d", got, timeout, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// receivedAt reads cable_received_total for station from the Prometheus
// text at url; a station that has received nothing yet has no sample.
func receivedAt(ctx context.Context, client *http.Client, url, station string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	n, err := receivedCount(resp.Body, station)
	io.Copy(io.Discard, resp.Body) // read to the end, so that the connection is kept
	return n, err
}

// receivedCount finds cable_received_total{station="X"} in Prometheus's
// text format.
func receivedCount(r io.Reader, station string) (int, error) {
	prefix := `cable_received_total{station="` + station + `"} `
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("cable_received_total: %w", err)
			}
			return int(f), nil
		}
	}
	return 0, sc.Err()
}
