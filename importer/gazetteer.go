// Package importer holds what the importers of historical records share:
// the gazetteer of historical posts and the reading of the references
// telegrams of the 1940s make to earlier ones. It imports only the domain.
package importer

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	cable "github.com/cable-archive/cable"
)

//go:embed gazetteer.txt
var gazetteerText []byte

// Gazetteer maps the place names historical telegrams are written with
// ("Moscow", "The Hague", "Secretary of State, Washington", "War") to
// station codes and IANA time zones. It is a station directory of the
// domain (cable.Directory) whose aliases are place names, country names
// and forms of address.
type Gazetteer struct {
	dir *cable.Directory
}

// NewGazetteer reads a gazetteer in the station directory format of
// cable.ParseDirectory: "station CODE KIND TIME-ZONE ADDRESS..." and
// "alias CODE NAME..." lines.
func NewGazetteer(directory []byte) (*Gazetteer, error) {
	d, err := cable.ParseDirectory(directory)
	if err != nil {
		return nil, err
	}
	return &Gazetteer{dir: d}, nil
}

var (
	defaultGazetteerOnce sync.Once
	defaultGazetteer     *Gazetteer
)

// DefaultGazetteer returns the gazetteer of historical posts built into
// the package (gazetteer.txt): about ninety posts of the 1940s and 1950s,
// headquarters (STATE, America/New_York) and the War and Navy relays.
func DefaultGazetteer() *Gazetteer {
	defaultGazetteerOnce.Do(func() {
		g, err := NewGazetteer(gazetteerText)
		if err != nil {
			panic("importer: built-in gazetteer: " + err.Error())
		}
		defaultGazetteer = g
	})
	return defaultGazetteer
}

// GazetteerText returns the built-in gazetteer in the directory format.
func GazetteerText() []byte { return append([]byte(nil), gazetteerText...) }

// Directory returns the gazetteer as a station directory.
func (g *Gazetteer) Directory() *cable.Directory { return g.dir }

// addressPrefixes are the forms of address removed before a place is
// looked up, longest first.
var addressPrefixes = []string{
	"AMERICAN CONSULATE GENERAL", "AMERICAN CONSULATE", "AMERICAN CONSUL GENERAL",
	"AMERICAN EMBASSY", "AMERICAN LEGATION", "AMERICAN MISSION", "AMERICAN CONSUL",
	"CONSULATE GENERAL AT", "CONSULATE GENERAL IN", "CONSULATE AT", "CONSULATE IN",
	"CONSUL GENERAL AT", "CONSUL GENERAL IN", "CONSUL AT", "CONSUL IN",
	"EMBASSY IN THE", "EMBASSY IN", "LEGATION IN THE", "LEGATION IN",
	"MISSION IN THE", "MISSION IN", "MISSION AT",
	"AMEMBASSY", "AMEMBAS", "AMEMB", "AMLEGATION", "AMLEG", "AMCONGEN", "AMCONSUL",
	"AMCON", "AMMISSION", "USPOLAD", "AMPOLAD", "USDEL", "THE",
}

// Lookup returns the station a place name or address names: "Moscow",
// "AmEmbassy, London", "American Embassy The Hague", "Netherlands".
func (g *Gazetteer) Lookup(name string) (*cable.Station, bool) {
	key := placeKey(name)
	for key != "" {
		if st, err := g.dir.StationByAddress(key); err == nil {
			return st, true
		}
		trimmed := false
		for _, p := range addressPrefixes {
			if rest, ok := strings.CutPrefix(key, p+" "); ok {
				key, trimmed = rest, true
				break
			}
		}
		if !trimmed {
			break
		}
	}
	return nil, false
}

// placeKey upper-cases a name and turns punctuation into spaces, so that
// "AmEmbassy, London." and "AMEMBASSY LONDON" are the same key.
func placeKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(foldAccent(r)))
		case r == '\'' || r == '\u2019':
			// "Dept's" stays one word.
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// PlaceKey upper-cases a place name, folds its accents and turns
// punctuation into spaces: the key Lookup compares.
func PlaceKey(s string) string { return placeKey(s) }

func foldAccent(r rune) rune {
	switch r {
	case 'é', 'è', 'ê', 'ë', 'É':
		return 'e'
	case 'á', 'à', 'â', 'ä', 'ã':
		return 'a'
	case 'í', 'ï':
		return 'i'
	case 'ó', 'ô', 'ö':
		return 'o'
	case 'ú', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	case 'ñ':
		return 'n'
	}
	return r
}
