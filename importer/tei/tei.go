// Package tei imports the documents of a documentary edition encoded in
// TEI, as Foreign Relations of the United States (FRUS) publishes its
// volumes: every div type="document" with its head, source note (file
// number and kind: "501.BC Indonesia/2-249: Telegram"), opener (markings
// and dateline with its date), the frus:doc-dateTime-min and -max
// attributes, text, closer and footnotes.
//
// The volume is streamed: an encoding/xml token loop holds one document
// at a time, so a volume of tens of megabytes is read in constant memory
// (Walk) or into a list of documents (Parse). A document that cannot be
// read, malformed XML included, is reported with the reason and the
// reading goes on with the next. See docs/importers.md.
package tei

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// Kinds of document. Telegrams become cables; the others are records of
// their own kind with the same common fields.
const (
	KindTelegram    = "telegram"
	KindMemorandum  = "memorandum"
	KindLetter      = "letter"
	KindNote        = "note"
	KindDespatch    = "despatch"
	KindAirgram     = "airgram"
	KindInstruction = "instruction"
	KindAideMemoire = "aide-memoire"
	KindMinutes     = "minutes"
	KindReport      = "report"
	KindMessage     = "message"
	KindEditorial   = "editorial-note"
	KindDocument    = "document"
)

// Volume is what a TEI volume gives: its documents, the count of each
// kind, and every document that could not be read.
type Volume struct {
	// ID is the volume's xml:id ("frus1949v07p1").
	ID string `json:"id,omitempty"`
	// Title is the volume's complete title.
	Title     string         `json:"title,omitempty"`
	Documents []Document     `json:"documents"`
	Problems  []Problem      `json:"problems"`
	Counts    map[string]int `json:"counts"`
}

// Problem is a document that could not be read, with the reason.
type Problem struct {
	// SourceID is the document's xml:id, or its place in the volume when
	// it has none ("document 12, line 3400").
	SourceID string `json:"source_id"`
	Reason   string `json:"reason"`
}

// Document is one document of the volume with the cable fields it could
// read. Fields the edition does not give are zero.
type Document struct {
	Kind string
	// SourceID is the TEI xml:id ("d152").
	SourceID string
	// Number is the document's number in the volume (its n, "152").
	Number string
	// FileCode is the file number of the source note, dashes normalised:
	// "501.BC Indonesia/2-249".
	FileCode string
	// Title is the number and head as the volume prints them.
	Title string
	// Subject is the head without its notes.
	Subject string
	// From and ToText are the sender and addressee as the head names them.
	From, ToText string
	// Station is the sending station: the dateline's place, else the sender's.
	Station string
	// To are the addressees: the head's addressee for action, and the
	// stations a note says the telegram was repeated to, for information.
	To []cable.Addressee
	// Serial is the telegram's number ("138").
	Serial int
	// Series are numbers in a series the text gives beside the telegram's
	// own ("Gocus 574").
	Series []string
	// DTG is the date-time group in UTC, when the edition gives the time.
	DTG time.Time
	// Date is the date alone ("1949-02-03") when it gives no time.
	Date string
	// Place is the dateline's place as printed.
	Place          string
	Classification cable.Classification
	// Marking is the markings as printed ("secret us urgent").
	Marking    string
	Precedence cable.Precedence
	Captions   []cable.Caption
	Handling   []cable.Handling
	References []cable.Reference
	Paragraphs []Paragraph
	Signature  string
	Footnotes  []Footnote
	// NotDeclassified lists the edition's markers of text still withheld
	// ("[place not declassified]").
	NotDeclassified []string
	// Pages are the volume's pages the document is printed on, as far as
	// the page breaks show.
	Pages []string
	// Warnings name what could not be read or was assumed.
	Warnings []string
}

// Paragraph is one paragraph of a document, numbered from 1 in order;
// Label is the paragraph's own number or letter as printed ("1.", "(a)").
type Paragraph struct {
	Number int
	Label  string
	Text   string
}

// Footnote is an editor's note.
type Footnote struct {
	N    string `json:"n,omitempty"`
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
	Text string `json:"text"`
	// Paragraph is the paragraph the note is attached to; 0 for the head,
	// source note or opener.
	Paragraph int `json:"paragraph"`
}

// ID returns the document's cable identifier when it has a station, a
// serial and a date-time group, else "".
func (d *Document) ID() string {
	if d.Station == "" || d.Serial == 0 || d.DTG.IsZero() {
		return ""
	}
	return cable.Identifier(d.DTG.Year(), d.Station, d.Serial)
}

// MarshalJSON writes kind, source_id, file_code, title and the cable
// fields of DESIGN.md the document has (id, station, serial, dtg,
// classification, precedence, to, subject, references, paragraphs,
// signature), with footnotes and what the edition gives beside them.
func (d Document) MarshalJSON() ([]byte, error) {
	type para struct {
		Number         int    `json:"number"`
		Label          string `json:"label,omitempty"`
		Classification string `json:"classification,omitempty"`
		Text           string `json:"text"`
	}
	out := struct {
		Kind            string            `json:"kind"`
		SourceID        string            `json:"source_id"`
		Number          string            `json:"number,omitempty"`
		FileCode        string            `json:"file_code,omitempty"`
		Title           string            `json:"title"`
		ID              string            `json:"id,omitempty"`
		Station         string            `json:"station,omitempty"`
		Serial          int               `json:"serial,omitempty"`
		Series          []string          `json:"series,omitempty"`
		DTG             *time.Time        `json:"dtg,omitempty"`
		Date            string            `json:"date,omitempty"`
		Place           string            `json:"place,omitempty"`
		Precedence      string            `json:"precedence,omitempty"`
		Classification  string            `json:"classification,omitempty"`
		Marking         string            `json:"marking,omitempty"`
		Captions        []cable.Caption   `json:"captions,omitempty"`
		Handling        []cable.Handling  `json:"handling,omitempty"`
		From            string            `json:"from,omitempty"`
		To              []cable.Addressee `json:"to,omitempty"`
		Tags            []string          `json:"tags,omitempty"`
		Subject         string            `json:"subject"`
		References      []cable.Reference `json:"references,omitempty"`
		Paragraphs      []para            `json:"paragraphs"`
		Signature       string            `json:"signature,omitempty"`
		Footnotes       []Footnote        `json:"footnotes,omitempty"`
		NotDeclassified []string          `json:"not_declassified,omitempty"`
		Pages           []string          `json:"pages,omitempty"`
		Warnings        []string          `json:"warnings,omitempty"`
	}{
		Kind: d.Kind, SourceID: d.SourceID, Number: d.Number, FileCode: d.FileCode, Title: d.Title,
		ID: d.ID(), Station: d.Station, Serial: d.Serial, Series: d.Series, Date: d.Date, Place: d.Place,
		Marking: d.Marking, Captions: d.Captions, Handling: d.Handling, From: d.From, To: d.To,
		Tags: d.Tags(), Subject: d.Subject, References: d.References, Signature: d.Signature,
		Footnotes: d.Footnotes, NotDeclassified: d.NotDeclassified, Pages: d.Pages, Warnings: d.Warnings,
		Paragraphs: []para{},
	}
	if !d.DTG.IsZero() {
		t := d.DTG.UTC()
		out.DTG = &t
	}
	if d.Precedence.Valid() {
		out.Precedence = d.Precedence.String()
	}
	if d.Classification.Valid() {
		out.Classification = d.Classification.String()
	}
	for _, p := range d.Paragraphs {
		out.Paragraphs = append(out.Paragraphs, para{p.Number, p.Label, out.Classification, p.Text})
	}
	return json.Marshal(out)
}

// Tags returns the document's tags: the decimal file code of its file
// number ("501.BC INDONESIA" for "501.BC Indonesia/2-249").
func (d *Document) Tags() []string {
	if d.FileCode == "" {
		return nil
	}
	code, _, _ := strings.Cut(d.FileCode, "/")
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return nil
	}
	return []string{code}
}

// Cable returns the document as a cable for the records: its fields, the
// precedence ROUTINE and the classification UNCLASSIFIED when the edition
// prints none, every paragraph marked as the whole.
func (d *Document) Cable() *cable.Cable {
	c := &cable.Cable{
		ID:             d.ID(),
		Station:        d.Station,
		Serial:         d.Serial,
		DTG:            d.DTG.UTC(),
		Precedence:     d.Precedence,
		Classification: d.Classification,
		Captions:       append([]cable.Caption(nil), d.Captions...),
		Handling:       append([]cable.Handling(nil), d.Handling...),
		To:             append([]cable.Addressee(nil), d.To...),
		Tags:           d.Tags(),
		Subject:        d.Subject,
		References:     append([]cable.Reference(nil), d.References...),
		Signature:      d.Signature,
	}
	if d.DTG.IsZero() {
		c.DTG = time.Time{}
	}
	if !c.Precedence.Valid() {
		c.Precedence = cable.Routine
	}
	if !c.Classification.Valid() {
		c.Classification = cable.Unclassified
	}
	for _, p := range d.Paragraphs {
		c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: p.Number, Classification: c.Classification, Text: p.Text})
	}
	return c
}

// Parse reads a TEI volume and returns its documents, its problems and
// its counts by kind. It fails only when the input is not a TEI volume,
// holds no document, or cannot be read.
func Parse(r io.Reader) (*Volume, error) {
	var docs []Document
	v, err := Walk(context.Background(), r, func(d *Document) error {
		docs = append(docs, *d)
		return nil
	})
	if v != nil {
		v.Documents = docs
		if v.Documents == nil {
			v.Documents = []Document{}
		}
	}
	return v, err
}

// Walk reads a TEI volume, streaming, and calls fn with each document it
// can read, in order; fn's error stops the walk. The volume it returns
// holds the counts by kind and the problems, not the documents.
func Walk(ctx context.Context, r io.Reader, fn func(*Document) error) (*Volume, error) {
	w := &walker{
		src: &source{r: bufio.NewReaderSize(r, 64<<10)},
		vol: &Volume{Counts: map[string]int{}, Problems: []Problem{}},
	}
	w.dec = newDecoder(w.src)
	if err := w.run(ctx, fn); err != nil {
		return w.vol, err
	}
	return w.vol, nil
}

type walker struct {
	src      *source
	dec      *xml.Decoder
	lineBase int
	vol      *Volume
	page     string // the page the stream is on: the n of the last pb
	rootSeen bool
	ordinal  int // documents met, readable or not
}

func (w *walker) line() int {
	l, _ := w.dec.InputPos()
	return w.lineBase + l
}

func (w *walker) problem(id string, reason string) {
	w.vol.Problems = append(w.vol.Problems, Problem{SourceID: id, Reason: reason})
}

func (w *walker) run(ctx context.Context, fn func(*Document) error) error {
	for {
		tok, err := w.dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			if w.src.err != nil {
				return fmt.Errorf("tei: read: %w", w.src.err)
			}
			if !isSyntax(err) || !w.rootSeen {
				return cable.Errorf(cable.EINVALID, "not a readable TEI volume: %s", syntaxReason(err))
			}
			// Malformed XML between documents: skip to the next one.
			w.problem(fmt.Sprintf("near line %d", w.line()), w.syntaxReason(err))
			if !w.resync() {
				break
			}
			continue
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !w.rootSeen {
			if se.Name.Local != "TEI" && se.Name.Local != "teiCorpus" {
				return cable.Errorf(cable.EINVALID, "not a TEI volume: the root element is <%s>, not <TEI>", qualified(se.Name))
			}
			w.rootSeen = true
			w.vol.ID = attrOf(se.Attr, "id")
			continue
		}
		switch se.Name.Local {
		case "pb":
			if n := attrOf(se.Attr, "n"); n != "" {
				w.page = n
			}
		case "title":
			if w.vol.Title == "" && attrOf(se.Attr, "type") == "complete" {
				n, err := collect(w.dec, se)
				if err == nil {
					w.vol.Title = collapse(plainText(n))
				}
			}
		case "div":
			if attrOf(se.Attr, "type") != "document" {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := w.document(se, fn); err != nil {
				return err
			}
		}
	}
	if !w.rootSeen {
		return cable.Errorf(cable.EINVALID, "not a TEI volume: the input is empty")
	}
	if w.ordinal == 0 {
		return cable.Errorf(cable.EINVALID, `the volume holds no document (no <div type="document">)`)
	}
	return nil
}

// resync starts a new decoder at the next document after malformed XML.
func (w *walker) resync() bool {
	base, ok := w.src.skipToDocument()
	if !ok {
		return false
	}
	w.lineBase = base
	w.dec = newDecoder(w.src)
	return true
}

func (w *walker) document(se xml.StartElement, fn func(*Document) error) error {
	w.ordinal++
	id := attrOf(se.Attr, "id")
	if id == "" {
		id = fmt.Sprintf("document %d, line %d", w.ordinal, w.line())
	}
	startPage := w.page
	n, err := collect(w.dec, se)
	if err != nil {
		if w.src.err != nil {
			return fmt.Errorf("tei: read: %w", w.src.err)
		}
		if isSyntax(err) {
			w.problem(id, w.syntaxReason(err))
			if !w.resync() {
				w.dec = newDecoder(&source{r: bufio.NewReader(strings.NewReader(""))})
			}
			return nil
		}
		// The elements do not nest: report it and go on with the tokens
		// that follow, looking for the next document.
		w.problem(id, "malformed XML: "+err.Error())
		return nil
	}
	d, reason := interpret(n, startPage, &w.page)
	if reason != "" {
		w.problem(id, reason)
		return nil
	}
	w.vol.Counts[d.Kind]++
	return fn(d)
}

// syntaxReason describes a syntax error with its line in the whole
// input, across the decoders started after earlier errors.
func (w *walker) syntaxReason(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) && se.Line > 0 {
		return fmt.Sprintf("malformed XML at line %d: %s", se.Line+w.lineBase, se.Msg)
	}
	return syntaxReason(err)
}

func attrOf(as []xml.Attr, local string) string {
	for _, a := range as {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
