package centre

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// batchSizes is a records store that only takes releases, noting how many
// each transaction held, and commits nothing.
type batchSizes struct {
	cable.Records
	mu    sync.Mutex
	sizes []int
	done  chan struct{}
}

func (b *batchSizes) Release(_ context.Context, reqs []*cable.ReleaseRequest) error {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(reqs))
	b.mu.Unlock()
	b.done <- struct{}{}
	return nil
}

func (b *batchSizes) got() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sizes)
}

// TestReleaseLoopGathers drives the release loop by hand: releases come in
// as callers' would, some still being checked (preparing), and each
// transaction's size is noted.
func TestReleaseLoopGathers(t *testing.T) {
	rec := &batchSizes{done: make(chan struct{}, 100)}
	c := &Centre{records: rec, releases: make(chan *pendingRelease, 1024), gather: time.Hour}
	send := func(n int) {
		for range n {
			c.releases <- &pendingRelease{req: &cable.ReleaseRequest{}, done: make(chan error, 1)}
		}
	}
	// Eight waiting before the loop starts commit together.
	send(8)
	ctx, cancel := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() { c.releaseLoop(ctx); close(loopDone) }()
	defer func() { cancel(); <-loopDone }()

	commit := func(want ...int) {
		t.Helper()
		select {
		case <-rec.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("no transaction; batches so far %v", rec.got())
		}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Fatalf("batches %v, want %v", got, want)
		}
	}

	commit(8)

	// The callers come back one by one, as they do when their releases
	// return: the first does not commit alone, the batch waits for as many
	// as the one before.
	send(3)
	time.Sleep(50 * time.Millisecond)
	if got := rec.got(); len(got) != 1 {
		t.Fatalf("three of eight committed without waiting for the rest: batches %v", got)
	}
	send(5)
	commit(8, 8)

	// Releases being checked are waited for even beyond the batch before.
	c.preparing.Store(2)
	send(9)
	time.Sleep(50 * time.Millisecond)
	if got := rec.got(); len(got) != 2 {
		t.Fatalf("committed while two releases were being checked: batches %v", got)
	}
	c.preparing.Store(0)
	send(1) // wakes the loop, which finds none being checked
	commit(8, 8, 10)

	// The wait is bounded: a lone release after a batch of ten commits
	// once the gathering time is up.
	c.gather = 30 * time.Millisecond
	t0 := time.Now()
	send(1)
	commit(8, 8, 10, 1)
	if waited := time.Since(t0); waited < c.gather {
		t.Errorf("a lone release committed after %v, before the gathering time (%v) was up", waited, c.gather)
	}

	// With no gathering, each commits what is waiting.
	c.gather = -1
	send(1)
	commit(8, 8, 10, 1, 1)
}
