package main

import (
	"bytes"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/importer/tei"
	"github.com/cable-archive/cable/importer/transcript"
)

// importers adapts the importer packages to cable.Importers.
type importers struct{}

// Transcript rebuilds a scanned telegram's transcript.
func (importers) Transcript(src []byte) (*cable.HistoricalRecord, error) {
	res, err := transcript.Parse(src)
	if err != nil {
		return nil, err
	}
	return transcriptRecord(res, src), nil
}

// TEI reads the documents of a TEI volume.
func (importers) TEI(src []byte) ([]*cable.HistoricalRecord, []cable.Problem, error) {
	vol, err := tei.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, nil, err
	}
	var out []*cable.HistoricalRecord
	for i := range vol.Documents {
		out = append(out, teiRecord(vol, &vol.Documents[i]))
	}
	var ps []cable.Problem
	for _, p := range vol.Problems {
		ps = append(ps, cable.Problem{Field: p.SourceID, Message: p.Reason})
	}
	return out, ps, nil
}
