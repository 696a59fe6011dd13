package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// TestLongCablesTravelInSections releases cables from one byte of text to
// 50 MB at a node whose channel carries 1 MiB: the long ones are cut into
// sections, each sealed and sent on its own, held at STATE until whole and
// stored there byte-identical to what MOSCOW released.
func TestLongCablesTravelInSections(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 60 MB of cables")
	}
	n := startTestNodeWith(t, nodeConfig{MaxMessage: 1 << 20})
	ctx := context.Background()
	drafter := user(t, n, "drafter.moscow")
	line := "The Embassy reports the day's developments in the capital with the views of officials and the press.\n"
	for _, size := range []int{1, 4 << 10, 3 << 20, 50_000_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := benchCable(size)
			text := strings.Repeat(line, size/len(line)+1)[:size]
			if size == 1 {
				text = "X"
			}
			c.Paragraphs = []cable.Paragraph{{Number: 1, Classification: cable.Confidential, Text: strings.TrimSpace(text)}}
			if c.Paragraphs[0].Text == "" {
				c.Paragraphs[0].Text = "X"
			}
			rec, err := n.centre.Release(ctx, drafter, c)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Minute)
			for {
				got, err := n.records.Cable(ctx, rec.Cable.ID)
				if err == nil && got.DeliveryFor("STATE") != nil {
					if got.SHA256 != rec.SHA256 {
						t.Fatalf("held at STATE with another text")
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s (%d bytes) not received at STATE", rec.Cable.ID, len(rec.Text))
				}
				time.Sleep(50 * time.Millisecond)
			}
			evs, err := n.records.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity})
			if err != nil || len(evs) != 0 {
				t.Fatalf("security events: %v %v", evs, err)
			}
			t.Logf("%d bytes of text, %d of canonical text: received whole", size, len(rec.Text))
		})
	}
}
