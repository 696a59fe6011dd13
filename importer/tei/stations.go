package tei

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	cable "github.com/cable-archive/cable"
)

// stationsText is the gazetteer of historical posts in the station
// directory format of the domain: the same file as the transcript
// importer's gazetteer.txt (the importers import only the domain, so each
// embeds its copy; a test keeps them identical).
//
//go:embed stations.txt
var stationsText []byte

var (
	stationsOnce sync.Once
	stations     *cable.Directory
)

// Stations returns the built-in gazetteer of historical posts as a
// station directory: place names, country names and forms of address as
// aliases of station codes.
func Stations() *cable.Directory {
	stationsOnce.Do(func() {
		d, err := cable.ParseDirectory(stationsText)
		if err != nil {
			panic("tei: built-in gazetteer: " + err.Error())
		}
		stations = d
	})
	return stations
}

// addressPrefixes are removed, one at a time, before a place is looked up.
var addressPrefixes = []string{
	"AMERICAN CONSULATE GENERAL", "AMERICAN CONSULATE", "AMERICAN EMBASSY", "AMERICAN LEGATION", "AMERICAN MISSION",
	"CONSULATE GENERAL AT", "CONSULATE GENERAL IN", "CONSULATE AT", "CONSULATE IN",
	"EMBASSY IN THE", "EMBASSY IN", "LEGATION IN THE", "LEGATION IN", "MISSION IN THE", "MISSION IN", "MISSION AT",
	"AMEMBASSY", "AMEMB", "AMLEGATION", "AMCONGEN", "AMCONSUL", "USPOLAD", "THE",
}

// lookupPlace returns the station a place name or address names.
func lookupPlace(d *cable.Directory, name string) (*cable.Station, bool) {
	key := placeKey(name)
	for key != "" {
		if st, err := d.StationByAddress(key); err == nil {
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

func placeKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(foldAccent(r)))
		case r == '\'' || r == '\u2019':
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

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
