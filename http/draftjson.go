package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	cable "github.com/cable-archive/cable"
)

// assignedFields are set by release and receipt, never by a drafter; a
// draft may carry them (a cable's JSON sent back as a new draft) and they
// are ignored, as the centre ignores them.
var assignedFields = map[string]bool{"id": true, "serial": true, "dtg": true, "received": true, "distribution": true}

// DecodeDraftJSON reads a draft in the cable JSON of the API. A body that
// is not a JSON object is an error; every field that cannot be read (a
// wrong type, an unknown marking, an unknown or read-only field) is a
// problem, named as Validate names it, and the rest of the draft is read
// all the same so the caller can check it too. The fields release and
// receipt assign (id, serial, dtg, received, distribution) are ignored.
func DecodeDraftJSON(data []byte) (*cable.Cable, []cable.Problem, error) {
	if c, ok := readPlainDraft(data); ok {
		return c, nil, nil
	}
	return decodeDraftJSON(data)
}

// decodeDraftJSON is DecodeDraftJSON through encoding/json, for any body:
// it reads the body once whole and each field again.
func decodeDraftJSON(data []byte) (*cable.Cable, []cable.Problem, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("body is not a JSON object: %s", jsonErrorText(err))
	}
	if raw == nil {
		return nil, nil, errors.New("body must be a JSON object, not null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("body must hold one JSON object and nothing after it")
	}

	var ps cable.Problems
	c := &cable.Cable{}
	get := func(key string, dst any, want string) bool {
		m, ok := raw[key]
		if !ok || string(m) == "null" {
			return false
		}
		if err := json.Unmarshal(m, dst); err != nil {
			ps.Add(key, "%s must be %s", key, want)
			return false
		}
		return true
	}

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if assignedFields[k] {
			continue
		} else if k == "" {
			ps.Add("body", "a field has an empty name")
		} else if !draftFields[k] {
			ps.Add(k, "unknown field %q", k)
		}
	}

	get("station", &c.Station, "a station code")
	var s string
	if get("precedence", &s, "a string: FLASH, IMMEDIATE, PRIORITY or ROUTINE") {
		if p, err := cable.ParsePrecedence(s); err != nil {
			ps.Add("precedence", "unknown precedence %q (want FLASH, IMMEDIATE, PRIORITY or ROUTINE)", s)
		} else {
			c.Precedence = p
		}
	}
	s = ""
	if get("classification", &s, "a string such as SECRET") {
		if v, err := cable.ParseClassification(s); err != nil {
			ps.Add("classification", "unknown classification %q", s)
		} else {
			c.Classification = v
		}
	}
	var list []string
	if get("captions", &list, "an array of strings") {
		for i, x := range list {
			k, err := cable.ParseCaption(x)
			if err != nil {
				ps.Add(fmt.Sprintf("captions[%d]", i), "unknown caption %q (want NODIS, EXDIS, LIMDIS or STADIS)", x)
				continue
			}
			c.Captions = append(c.Captions, k)
		}
	}
	list = nil
	if get("handling", &list, "an array of strings") {
		for i, x := range list {
			h, err := cable.ParseHandling(x)
			if err != nil {
				ps.Add(fmt.Sprintf("handling[%d]", i), "unknown handling instruction %q (want NIACT, NOFORN or NO PARAPHRASE NECESSARY)", x)
				continue
			}
			c.Handling = append(c.Handling, h)
		}
	}
	var to []struct {
		Station string `json:"station"`
		Role    string `json:"role"`
	}
	if get("to", &to, `an array of addressees: {"station": "STATE", "role": "action"}`) {
		for _, a := range to {
			c.To = append(c.To, cable.Addressee{
				Station: strings.ToUpper(strings.TrimSpace(a.Station)),
				Role:    cable.Role(strings.ToLower(strings.TrimSpace(a.Role))),
			})
		}
	}
	get("tags", &c.Tags, "an array of strings")
	get("subject", &c.Subject, "a string")
	if m, ok := raw["references"]; ok && string(m) != "null" {
		var items []json.RawMessage
		if err := json.Unmarshal(m, &items); err != nil {
			ps.Add("references", `references must be an array of {"text": "STATE 284"} or of strings`)
		}
		for i, item := range items {
			var ref cable.Reference
			var text string
			if err := json.Unmarshal(item, &text); err == nil {
				ref.Text = text
			} else if err := json.Unmarshal(item, &ref); err != nil {
				ps.Add(fmt.Sprintf("references[%d]", i), `a reference is {"text": "STATE 284"} or a string`)
				continue
			}
			c.References = append(c.References, cable.Reference{Text: ref.Text})
		}
	}
	var paras []struct {
		Number         int    `json:"number"`
		Classification string `json:"classification"`
		Text           string `json:"text"`
	}
	if get("paragraphs", &paras, `an array of {"number": 1, "classification": "SECRET", "text": "..."}`) {
		for i, p := range paras {
			n := p.Number
			if n == 0 {
				n = i + 1
			}
			para := cable.Paragraph{Number: n, Text: p.Text}
			if p.Classification != "" {
				v, err := cable.ParseClassification(p.Classification)
				if err != nil {
					v, err = cable.ParsePortionMark(p.Classification)
				}
				if err != nil {
					ps.Add(fmt.Sprintf("paragraphs[%d].classification", i), "unknown classification %q", p.Classification)
				}
				para.Classification = v
			}
			c.Paragraphs = append(c.Paragraphs, para)
		}
	}
	get("signature", &c.Signature, "a string")
	var auth struct {
		Order        string `json:"order"`
		ClassifiedBy string `json:"classified_by"`
		Reason       string `json:"reason"`
		DeclassifyOn string `json:"declassify_on"`
	}
	if get("authority", &auth, `an object {"classified_by", "reason", "declassify_on"}`) {
		a := &cable.Authority{Order: auth.Order, ClassifiedBy: auth.ClassifiedBy, Reason: auth.Reason}
		d, err := cable.ParseDeclassifyOn(auth.DeclassifyOn)
		if err != nil {
			ps.Add("authority.declassify_on", "%s", cable.ErrorMessage(err))
		}
		a.DeclassifyOn = d
		c.Authority = a
	}
	return c, ps, nil
}

// draftFields are the fields a JSON draft may carry.
var draftFields = map[string]bool{
	"station": true, "precedence": true, "classification": true, "captions": true,
	"handling": true, "to": true, "tags": true, "subject": true, "references": true,
	"paragraphs": true, "signature": true, "authority": true,
}

// jsonErrorText describes a JSON syntax error without Go's type names.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "the body must be a JSON object"
	}
	if errors.Is(err, io.EOF) {
		return "the body is empty"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the body ends too soon"
	}
	return err.Error()
}
