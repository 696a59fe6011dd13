// Package cable is the domain of the cable system: cables and their
// markings, precedence, stations and offices, routing rules, the access
// policy and the validation a message centre applies. It does no I/O;
// every outside thing (records stores, the transport, the web) lives in a
// package of its own that imports this one.
package cable

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Cable is one telegram: everything its drafter writes, what release adds
// (serial, date-time group, identifier) and, as seen by a receiving
// station, what the receiving message centre adds (receipt, distribution).
type Cable struct {
	// ID is year + station + five-digit serial, set on release: 2026MOSCOW00511.
	ID string `json:"id,omitempty"`
	// Station is the originating station's code.
	Station string `json:"station"`
	// Serial is the station's telegram number for the year, set on release.
	Serial int `json:"serial,omitempty"`
	// DTG is the date-time group in UTC, set on release.
	DTG            time.Time      `json:"dtg,omitzero"`
	Precedence     Precedence     `json:"precedence"`
	Classification Classification `json:"classification"`
	Captions       []Caption      `json:"captions,omitempty"`
	Handling       []Handling     `json:"handling,omitempty"`
	To             []Addressee    `json:"to"`
	Tags           []string       `json:"tags,omitempty"`
	Subject        string         `json:"subject"`
	References     []Reference    `json:"references,omitempty"`
	Paragraphs     []Paragraph    `json:"paragraphs"`
	Signature      string         `json:"signature"`
	Authority      *Authority     `json:"authority,omitempty"`

	// Received is the receipt at the station the cable is viewed from.
	Received *Receipt `json:"received,omitempty"`
	// Distribution is the receiving centre's assignment of offices.
	Distribution *Distribution `json:"distribution,omitempty"`
}

// Role says whether an addressee is to act on a cable or is informed of it.
type Role string

// Addressee roles.
const (
	RoleAction Role = "action"
	RoleInfo   Role = "info"
)

// Addressee is a station a cable is addressed to.
type Addressee struct {
	Station string `json:"station"`
	Role    Role   `json:"role"`
}

// Paragraph is one numbered paragraph with its portion mark.
type Paragraph struct {
	Number         int            `json:"number"`
	Classification Classification `json:"classification"`
	Text           string         `json:"text"`
}

// Authority is the classification authority block.
type Authority struct {
	// Order is the executive order the cable is classified under; "13526" when empty.
	Order        string       `json:"order,omitempty"`
	ClassifiedBy string       `json:"classified_by"`
	Reason       string       `json:"reason"`
	DeclassifyOn DeclassifyOn `json:"declassify_on"`
}

// Receipt is what a receiving message centre stamps on a cable.
type Receipt struct {
	// Station is the receiving station.
	Station       string    `json:"station,omitempty"`
	At            time.Time `json:"at"`
	ControlNumber string    `json:"control_number"`
}

// Distribution is the receiving centre's choice of offices.
type Distribution struct {
	Action string   `json:"action"`
	Info   []string `json:"info"`
}

// Offices lists the action office then the info offices.
func (d *Distribution) Offices() []string {
	if d == nil {
		return nil
	}
	return append([]string{d.Action}, d.Info...)
}

// Has reports whether office is among the distribution's offices.
func (d *Distribution) Has(office string) bool {
	for _, o := range d.Offices() {
		if o == office {
			return true
		}
	}
	return false
}

// Reference is a link to an earlier cable as the field writes it
// ("STATE 284"), with the identifier it resolves to when the cable is held.
type Reference struct {
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

// Addressees returns the stations with the given role, in order.
func (c *Cable) Addressees(role Role) []string {
	var out []string
	for _, a := range c.To {
		if a.Role == role {
			out = append(out, a.Station)
		}
	}
	return out
}

// Destinations returns every addressed station once, in order.
func (c *Cable) Destinations() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range c.To {
		if !seen[a.Station] {
			seen[a.Station] = true
			out = append(out, a.Station)
		}
	}
	return out
}

// HasCaption reports whether the cable carries caption k.
func (c *Cable) HasCaption(k Caption) bool {
	for _, x := range c.Captions {
		if x == k {
			return true
		}
	}
	return false
}

// HasHandling reports whether the cable carries handling instruction h.
func (c *Cable) HasHandling(h Handling) bool {
	for _, x := range c.Handling {
		if x == h {
			return true
		}
	}
	return false
}

// HasTag reports whether the cable carries tag t.
func (c *Cable) HasTag(t string) bool {
	for _, x := range c.Tags {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}

// HighestPortion returns the highest paragraph classification, or 0.
func (c *Cable) HighestPortion() Classification {
	var hi Classification
	for _, p := range c.Paragraphs {
		if p.Classification > hi {
			hi = p.Classification
		}
	}
	return hi
}

// Clone returns a deep copy of c.
func (c *Cable) Clone() *Cable {
	d := *c
	d.Captions = append([]Caption(nil), c.Captions...)
	d.Handling = append([]Handling(nil), c.Handling...)
	d.To = append([]Addressee(nil), c.To...)
	d.Tags = append([]string(nil), c.Tags...)
	d.References = append([]Reference(nil), c.References...)
	d.Paragraphs = append([]Paragraph(nil), c.Paragraphs...)
	if c.Authority != nil {
		a := *c.Authority
		d.Authority = &a
	}
	if c.Received != nil {
		r := *c.Received
		d.Received = &r
	}
	if c.Distribution != nil {
		x := *c.Distribution
		x.Info = append([]string(nil), c.Distribution.Info...)
		d.Distribution = &x
	}
	return &d
}

// Identifier returns the identifier of serial at station in year:
// year + station + serial of at least five digits.
func Identifier(year int, station string, serial int) string {
	return fmt.Sprintf("%04d%s%05d", year, station, serial)
}

var idPattern = regexp.MustCompile(`^(\d{4})([A-Z]{2,20})(\d{5,6})$`)

// ParseIdentifier splits an identifier into year, station and serial.
func ParseIdentifier(id string) (year int, station string, serial int, err error) {
	m := idPattern.FindStringSubmatch(id)
	if m == nil {
		return 0, "", 0, Errorf(EINVALID, "malformed cable identifier %q (want year, station, serial: 2026MOSCOW00511)", id)
	}
	year, _ = strconv.Atoi(m[1])
	serial, _ = strconv.Atoi(m[3])
	return year, m[2], serial, nil
}

var stationCodePattern = regexp.MustCompile(`^[A-Z]{2,20}$`)

// ValidStationCode reports whether s is a well-formed station code: two to
// twenty upper-case letters.
func ValidStationCode(s string) bool { return stationCodePattern.MatchString(s) }

var officePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:[/-][A-Z0-9]+)*$`)

// ValidOfficeCode reports whether s is a well-formed office symbol: EUR, DC/R, A-B.
func ValidOfficeCode(s string) bool { return len(s) <= 20 && officePattern.MatchString(s) }

var historicalIDPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)+$`)

// RecordKey returns what a record is filed under: year, station and serial
// of its cable identifier. A historical record of a kind that has no
// serial (a memorandum of an edition, "frus1949v07p1.d153") is filed under
// the year of its date, its station and serial 0.
func RecordKey(c *Cable, origin Origin) (year int, station string, serial int, err error) {
	year, station, serial, err = ParseIdentifier(c.ID)
	if err == nil {
		if station != c.Station || serial != c.Serial || c.DTG.IsZero() || c.DTG.UTC().Year() != year {
			return 0, "", 0, Errorf(EINVALID, "identifier %s does not match the cable's station, serial and date-time group", c.ID)
		}
		return year, station, serial, nil
	}
	if origin != OriginHistorical || !historicalIDPattern.MatchString(c.ID) || len(c.ID) > 100 {
		return 0, "", 0, err
	}
	if !ValidStationCode(c.Station) {
		return 0, "", 0, Errorf(EINVALID, "station code %q must be 2-20 upper-case letters", c.Station)
	}
	if !c.DTG.IsZero() {
		year = c.DTG.UTC().Year()
	}
	return year, c.Station, 0, nil
}
