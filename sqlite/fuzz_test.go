package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
)

// FuzzMatchQuery checks that whatever a person types becomes an FTS5
// query of quoted words that SQLite accepts, and that a search with it
// is never an error.
func FuzzMatchQuery(f *testing.F) {
	for _, s := range []string{"kremlin", "Kremlin's neurotic view", `"unbalanced`, "NEAR(a b)", "a OR b NOT c", "wheat*", "*",
		"subject:wheat", "'; DROP TABLE cables; --", "\x00", "«»", "e\u0301te\u0301", "\u0301", "日本語 テキスト", "^a + b", `""""`} {
		f.Add(s)
	}
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	storetest.Release(f, db, storetest.Cable("MOSCOW", feb, "Soviet outlook", "The Kremlin's neurotic view of world affairs."))
	f.Fuzz(func(t *testing.T, q string) {
		m := sqlite.MatchQuery(q)
		for _, term := range strings.Fields(m) {
			term = strings.TrimSuffix(term, "*")
			if len(term) < 3 || term[0] != '"' || term[len(term)-1] != '"' {
				t.Fatalf("MatchQuery(%q) = %q: term %q is not a quoted word", q, m, term)
			}
			for _, r := range term[1 : len(term)-1] {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
					t.Fatalf("MatchQuery(%q) = %q holds %q", q, m, r)
				}
			}
		}
		if _, _, err := db.FindCables(ctx, cable.CableFilter{MaxClassification: cable.TopSecret, Query: q}); err != nil {
			t.Fatalf("search %q (%q): %v", q, m, err)
		}
	})
}
