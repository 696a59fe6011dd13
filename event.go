package cable

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// GenesisHash is the PrevHash of the first event in a log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash returns the hash that chains e to the event before it: the
// hex SHA-256 of PrevHash and the event's content (seq, time to the
// microsecond in UTC, kind, cable, station, actor, detail as JSON with
// sorted keys). A store sets Seq and At, then Chain sets PrevHash and
// Hash; changing any stored event breaks every hash after it.
func (e *Event) ComputeHash() string {
	_, _, canonical, err := readBack(e.Detail)
	if err != nil {
		// Detail holds only JSON values decoded from or destined for JSON.
		panic("cable: event detail is not JSON: " + err.Error())
	}
	return e.hash(canonical)
}

// Chain readies e to be appended to a log after the event whose hash is
// prev: Detail becomes what its JSON form reads back as (numbers as
// json.Number, structs as maps), PrevHash prev, and Hash what
// ComputeHash gives. It returns Detail's JSON form, to be stored and read
// back with DecodeEventDetail; nil when Detail is nil. Seq and At must be
// set first. A store appends every event through Chain: it costs one
// round trip through JSON fewer than setting Detail and then calling
// ComputeHash.
func (e *Event) Chain(prev string) (detailJSON []byte, err error) {
	form, back, canonical, err := readBack(e.Detail)
	if err != nil {
		return nil, Errorf(EINVALID, "event detail is not JSON: %v", err)
	}
	e.Detail, e.PrevHash = back, prev
	e.Hash = e.hash(canonical)
	return form, nil
}

// hash is ComputeHash with the detail's canonical JSON given (nil: none).
func (e *Event) hash(detail json.RawMessage) string {
	content := struct {
		Seq     int64           `json:"seq"`
		At      string          `json:"at"`
		Kind    string          `json:"kind"`
		CableID string          `json:"cable_id"`
		Station string          `json:"station"`
		Actor   string          `json:"actor"`
		Detail  json.RawMessage `json:"detail"`
	}{e.Seq, e.At.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"), e.Kind, e.CableID, e.Station, e.Actor, detail}
	b, err := json.Marshal(content) // a RawMessage is written compact, as Marshal wrote it
	if err != nil {
		panic("cable: event is not JSON: " + err.Error())
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// readBack returns detail's JSON form, what that form reads back as, and
// the JSON form of that, the canonical one that the hash covers:
// structs become maps with sorted keys, numbers keep their exact text,
// invalid UTF-8 becomes U+FFFD, and an empty map is no detail (canonical
// nil, as Event's JSON form omits it). What is read back reads back as
// itself, so an event read back from JSON hashes as it did when it was
// written. A nil detail gives three nils.
func readBack(detail map[string]any) (form []byte, back map[string]any, canonical []byte, err error) {
	if detail == nil {
		return nil, nil, nil, nil
	}
	if form, err = json.Marshal(detail); err != nil {
		return nil, nil, nil, err
	}
	if back, err = DecodeEventDetail(form); err != nil {
		return nil, nil, nil, err
	}
	if len(back) > 0 {
		if canonical, err = json.Marshal(back); err != nil {
			return nil, nil, nil, err
		}
	}
	return form, back, canonical, nil
}

// SHA256Hex returns the hex SHA-256 of b, as records store it.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
