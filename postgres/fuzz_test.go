package postgres_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/cable-archive/cable/postgres"
	"github.com/jackc/pgx/v5"
)

var feb = time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC)

// FuzzTSQuery checks that whatever a person types becomes a tsquery of
// words joined by & (a word perhaps marked as a prefix), and, with a
// database, one that to_tsquery accepts.
func FuzzTSQuery(f *testing.F) {
	for _, s := range []string{"kremlin", "Kremlin's neurotic view", `"unbalanced`, "(a | b) & !c", "wheat*", "*", "a:* b:A",
		"'; DROP TABLE cables; --", "\x00", "«»", "e\u0301te\u0301", "\u0301", "日本語 テキスト", "x <-> y", `\\'`} {
		f.Add(s)
	}
	var conn *pgx.Conn
	if testDSN != "" {
		var err error
		if conn, err = pgx.Connect(ctx, testDSN); err != nil {
			f.Fatal(err)
		}
		defer conn.Close(ctx)
	}
	f.Fuzz(func(t *testing.T, q string) {
		tsq := postgres.TSQuery(q)
		if tsq == "" {
			return
		}
		for _, term := range strings.Split(tsq, " & ") {
			word := strings.TrimSuffix(term, ":*")
			if word == "" {
				t.Fatalf("TSQuery(%q) = %q holds an empty term", q, tsq)
			}
			for _, r := range word {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
					t.Fatalf("TSQuery(%q) = %q holds %q", q, tsq, r)
				}
			}
		}
		if conn != nil {
			if _, err := conn.Exec(ctx, `SELECT to_tsquery('english', $1)`, tsq); err != nil {
				t.Fatalf("to_tsquery(%q) from %q: %v", tsq, q, err)
			}
		}
	})
}
