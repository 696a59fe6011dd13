package transcript

import "github.com/cable-archive/cable/importer"

// Gazetteer maps the place names historical telegrams are written with to
// station codes and IANA time zones; see importer.Gazetteer.
type Gazetteer = importer.Gazetteer

// The gazetteer and references are shared with the TEI importer.
var (
	// DefaultGazetteer returns the built-in gazetteer of historical posts.
	DefaultGazetteer = importer.DefaultGazetteer
	// NewGazetteer reads a gazetteer in the station directory format.
	NewGazetteer = importer.NewGazetteer
	// GazetteerText returns the built-in gazetteer in the directory format.
	GazetteerText = importer.GazetteerText
	// References finds the telegrams a text cites.
	References = importer.References
)

func placeKey(s string) string { return importer.PlaceKey(s) }
