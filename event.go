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
// sorted keys). A store sets Seq, At and PrevHash, then Hash =
// ComputeHash(); changing any stored event breaks every hash after it.
func (e *Event) ComputeHash() string {
	content := struct {
		Seq     int64          `json:"seq"`
		At      string         `json:"at"`
		Kind    string         `json:"kind"`
		CableID string         `json:"cable_id"`
		Station string         `json:"station"`
		Actor   string         `json:"actor"`
		Detail  map[string]any `json:"detail"`
	}{e.Seq, e.At.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"), e.Kind, e.CableID, e.Station, e.Actor, e.Detail}
	b, err := json.Marshal(content) // maps marshal with sorted keys
	if err != nil {
		// Detail holds only JSON values decoded from or destined for JSON.
		panic("cable: event detail is not JSON: " + err.Error())
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256Hex returns the hex SHA-256 of b, as records store it.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
