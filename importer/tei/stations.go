package tei

import (
	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/importer"
)

// Stations returns the built-in gazetteer of historical posts as a
// station directory: place names, country names and forms of address as
// aliases of station codes.
func Stations() *cable.Directory { return importer.DefaultGazetteer().Directory() }

// lookupPlace returns the station a place name or address names.
func lookupPlace(_ *cable.Directory, name string) (*cable.Station, bool) {
	return importer.DefaultGazetteer().Lookup(name)
}

func references(text, from, to string) []cable.Reference { return importer.References(text, from, to) }
