package cable

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// StationKind says what a station does.
type StationKind string

// Station kinds.
const (
	Headquarters StationKind = "headquarters"
	Post         StationKind = "post"
	Relay        StationKind = "relay"
)

// Station is a place that sends and receives cables.
type Station struct {
	Code     string      `json:"code"`
	Kind     StationKind `json:"kind"`
	TimeZone string      `json:"time_zone"`
	// Address is how cables address the station: "AMEMBASSY MOSCOW".
	Address string `json:"address"`
	// Aliases are other addresses the station is known by in traffic.
	Aliases []string `json:"aliases,omitempty"`
	Offices []Office `json:"offices,omitempty"`

	loc *time.Location
}

// Office is a unit at a station that cables are distributed to.
type Office struct {
	Symbol string `json:"symbol"`
	Name   string `json:"name"`
}

// Location returns the station's time zone (UTC if it cannot be loaded).
func (s *Station) Location() *time.Location {
	if s.loc != nil {
		return s.loc
	}
	if loc, err := time.LoadLocation(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// LocalTime returns t in the station's time zone.
func (s *Station) LocalTime(t time.Time) time.Time { return t.In(s.Location()) }

// HasOffice reports whether the station has an office with that symbol.
func (s *Station) HasOffice(symbol string) bool {
	for _, o := range s.Offices {
		if o.Symbol == symbol {
			return true
		}
	}
	return false
}

// Directory is the station directory: every station a node knows, with
// its addresses and offices.
type Directory struct {
	stations  map[string]*Station
	addresses map[string]string
	order     []string
}

// NewDirectory builds a directory from stations, checking every one.
func NewDirectory(stations []Station) (*Directory, error) {
	d := &Directory{stations: map[string]*Station{}, addresses: map[string]string{}}
	var ps Problems
	for i := range stations {
		s := stations[i]
		field := fmt.Sprintf("stations[%s]", s.Code)
		if !ValidStationCode(s.Code) {
			ps.Add(field, "station code %q must be 2-20 upper-case letters", s.Code)
			continue
		}
		if _, dup := d.stations[s.Code]; dup {
			ps.Add(field, "station %s is listed twice", s.Code)
			continue
		}
		switch s.Kind {
		case Headquarters, Post, Relay:
		default:
			ps.Add(field+".kind", "unknown station kind %q (want headquarters, post or relay)", s.Kind)
		}
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil || s.TimeZone == "" {
			ps.Add(field+".time_zone", "unknown IANA time zone %q", s.TimeZone)
		} else {
			s.loc = loc
		}
		seenOffice := map[string]bool{}
		for _, o := range s.Offices {
			if !ValidOfficeCode(o.Symbol) {
				ps.Add(field+".offices", "office symbol %q is malformed", o.Symbol)
			}
			if seenOffice[o.Symbol] {
				ps.Add(field+".offices", "office %s is listed twice", o.Symbol)
			}
			seenOffice[o.Symbol] = true
		}
		d.stations[s.Code] = &s
		d.order = append(d.order, s.Code)
		for _, a := range append([]string{s.Code, s.Address}, s.Aliases...) {
			key := NormalizeAddress(a)
			if key == "" {
				continue
			}
			if other, ok := d.addresses[key]; ok && other != s.Code {
				ps.Add(field+".address", "address %q already names station %s", a, other)
				continue
			}
			d.addresses[key] = s.Code
		}
	}
	if err := ps.Err("invalid station directory"); err != nil {
		return nil, err
	}
	return d, nil
}

// NormalizeAddress folds case, spacing and the common abbreviations of
// address prefixes, so "AMEMB  Moscow" and "AMEMBASSY MOSCOW" compare equal.
func NormalizeAddress(a string) string {
	f := strings.Fields(strings.ToUpper(strings.TrimRight(strings.TrimSpace(a), ".")))
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "AMEMB", "AMEMBASSY", "AMEMBAS":
		f[0] = "AMEMBASSY"
	case "AMCONSUL", "AMCONGEN", "AMCON":
		f[0] = "AMCONSUL"
	}
	s := strings.Join(f, " ")
	s = strings.ReplaceAll(s, "WASH DC", "WASHDC")
	s = strings.ReplaceAll(s, "WASHINGTON DC", "WASHDC")
	return s
}

// Station returns the station with code, or a not-found error.
func (d *Directory) Station(code string) (*Station, error) {
	if s, ok := d.stations[code]; ok {
		return s, nil
	}
	return nil, Errorf(ENOTFOUND, "unknown station %q", code)
}

// StationByAddress maps an address as cables write it ("AMEMBASSY
// MOSCOW", "SECSTATE WASHDC", or a bare code) to its station.
func (d *Directory) StationByAddress(addr string) (*Station, error) {
	if code, ok := d.addresses[NormalizeAddress(addr)]; ok {
		return d.stations[code], nil
	}
	return nil, Errorf(ENOTFOUND, "no station in the directory has the address %q", addr)
}

// Stations returns every station in the order the directory lists them.
func (d *Directory) Stations() []*Station {
	out := make([]*Station, len(d.order))
	for i, c := range d.order {
		out[i] = d.stations[c]
	}
	return out
}

// Codes returns the station codes, sorted.
func (d *Directory) Codes() []string {
	out := append([]string(nil), d.order...)
	sort.Strings(out)
	return out
}

// ParseDirectory reads a station directory file. Blank lines and lines
// starting with # are ignored; the other lines are
//
//	station CODE KIND TIME-ZONE ADDRESS...
//	alias   CODE ADDRESS...
//	office  CODE SYMBOL NAME...
//
// Every malformed line is reported, by line number.
func ParseDirectory(src []byte) (*Directory, error) {
	var stations []Station
	index := map[string]int{}
	var ps Problems
	addresses := map[string]string{}
	addAddress := func(code, a, field string) {
		key := NormalizeAddress(a)
		if key == "" {
			return
		}
		if other, ok := addresses[key]; ok && other != code {
			ps.Add(field, "address %q already names station %s", a, other)
			return
		}
		addresses[key] = code
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		field := fmt.Sprintf("line %d", n)
		switch f[0] {
		case "station":
			if len(f) < 5 {
				ps.Add(field, "want: station CODE KIND TIME-ZONE ADDRESS...")
				continue
			}
			if _, dup := index[f[1]]; dup {
				ps.Add(field, "station %s is defined twice", f[1])
				continue
			}
			// The checks NewDirectory makes are made here too, so that each
			// problem names its line; the station is kept either way so the
			// alias and office lines below it are not reported as orphans.
			if !ValidStationCode(f[1]) {
				ps.Add(field, "station code %q must be 2-20 upper-case letters", f[1])
			}
			switch StationKind(f[2]) {
			case Headquarters, Post, Relay:
			default:
				ps.Add(field, "unknown station kind %q (want headquarters, post or relay)", f[2])
			}
			if _, err := time.LoadLocation(f[3]); err != nil {
				ps.Add(field, "unknown IANA time zone %q", f[3])
			}
			address := strings.Join(f[4:], " ")
			addAddress(f[1], f[1], field)
			addAddress(f[1], address, field)
			index[f[1]] = len(stations)
			stations = append(stations, Station{Code: f[1], Kind: StationKind(f[2]), TimeZone: f[3], Address: address})
		case "alias", "office":
			if len(f) < 3 {
				ps.Add(field, "want: %s CODE %s", f[0], map[string]string{"alias": "ADDRESS...", "office": "SYMBOL NAME..."}[f[0]])
				continue
			}
			i, ok := index[f[1]]
			if !ok {
				ps.Add(field, "station %s is not defined above", f[1])
				continue
			}
			if f[0] == "alias" {
				alias := strings.Join(f[2:], " ")
				addAddress(f[1], alias, field)
				stations[i].Aliases = append(stations[i].Aliases, alias)
			} else {
				if !ValidOfficeCode(f[2]) {
					ps.Add(field, "office symbol %q is malformed", f[2])
				} else if stations[i].HasOffice(f[2]) {
					ps.Add(field, "office %s is listed twice", f[2])
				}
				stations[i].Offices = append(stations[i].Offices, Office{Symbol: f[2], Name: strings.Join(f[3:], " ")})
			}
		default:
			ps.Add(field, "unknown directive %q (want station, alias or office)", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		ps.Add("", "%v", err)
	}
	if err := ps.Err("invalid station directory"); err != nil {
		return nil, err
	}
	return NewDirectory(stations)
}
