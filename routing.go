package cable

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// RoutingRules are the receiving message centres' rules for choosing the
// offices a cable is distributed to, kept in a file an operator edits. For
// each station the rules are tried in order and the first that matches
// decides; the station's default catches the rest.
type RoutingRules struct {
	stations map[string]*stationRules
}

type stationRules struct {
	rules []RoutingRule
	def   *Distribution
}

// RoutingRule is one rule: every condition must hold for it to match.
type RoutingRule struct {
	Line       int
	Conditions []Condition
	Then       Distribution
}

// Condition is one test on a cable. Kind is tag, subject, caption, from,
// addressee, role or precedence; the condition holds if any of Values does.
type Condition struct {
	Kind   string
	Values []string
}

// Distribute chooses the offices for c received at station. It never
// fails: a station with no rules distributes to no office, which the
// caller treats as an error of configuration.
func (rr *RoutingRules) Distribute(c *Cable, station string) (Distribution, bool) {
	if rr == nil {
		return Distribution{}, false
	}
	sr := rr.stations[station]
	if sr == nil {
		return Distribution{}, false
	}
	var subject subjectWords
	for _, r := range sr.rules {
		if r.matches(c, station, &subject) {
			return cloneDistribution(r.Then), true
		}
	}
	if sr.def != nil {
		return cloneDistribution(*sr.def), true
	}
	return Distribution{}, false
}

func cloneDistribution(d Distribution) Distribution {
	return Distribution{Action: d.Action, Info: append([]string{}, d.Info...)}
}

// subjectWords holds a cable's subject split into upper-case words, made
// once per Distribute call and only if a rule asks about the subject.
type subjectWords struct {
	done  bool
	words []string
}

func (sw *subjectWords) get(subject string) []string {
	if !sw.done {
		sw.words, sw.done = words(subject), true
	}
	return sw.words
}

func (r RoutingRule) matches(c *Cable, station string, subject *subjectWords) bool {
	for _, cond := range r.Conditions {
		if !cond.holds(c, station, subject) {
			return false
		}
	}
	return true
}

func (cond Condition) holds(c *Cable, station string, subject *subjectWords) bool {
	for _, v := range cond.Values {
		switch cond.Kind {
		case "tag":
			if c.HasTag(v) {
				return true
			}
		case "subject":
			if containsWords(subject.get(c.Subject), words(v)) {
				return true
			}
		case "caption":
			if c.HasCaption(Caption(v)) {
				return true
			}
		case "from":
			if c.Station == v {
				return true
			}
		case "addressee":
			for _, a := range c.To {
				if a.Station == v {
					return true
				}
			}
		case "role":
			for _, a := range c.To {
				if a.Station == station && string(a.Role) == v {
					return true
				}
			}
		case "precedence":
			if c.Precedence.String() == v {
				return true
			}
		}
	}
	return false
}

// words splits s into upper-case words, dropping punctuation.
func words(s string) []string {
	return strings.Fields(strings.ToUpper(nonWord.ReplaceAllString(s, " ")))
}

// containsWords reports whether the words of want occur in words, in order
// and next to each other.
func containsWords(words, want []string) bool {
	if len(want) == 0 {
		return false
	}
outer:
	for i := 0; i+len(want) <= len(words); i++ {
		for j, w := range want {
			if words[i+j] != w {
				continue outer
			}
		}
		return true
	}
	return false
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}]+`)

var conditionKinds = map[string]bool{"tag": true, "subject": true, "caption": true, "from": true, "addressee": true, "role": true, "precedence": true}

// ParseRoutingRules reads a routing rules file:
//
//	# comment
//	at STATE
//	when tag UR -> action EUR info INR, S
//	when caption NODIS and from MOSCOW -> action S
//	when subject "arms control" -> action PM info EUR
//	default -> action DC/R
//
// Conditions are tag, subject (words or a quoted phrase), caption, from
// (originating station), addressee (a station the cable is addressed to),
// role (action or info: how this station is addressed) and precedence;
// values separated by commas are alternatives. When dir is not nil every
// station and office is checked against it. Every problem is reported with
// its line number.
func ParseRoutingRules(src []byte, dir *Directory) (*RoutingRules, error) {
	rr := &RoutingRules{stations: map[string]*stationRules{}}
	var ps Problems
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field := fmt.Sprintf("line %d", n)
		if rest, ok := strings.CutPrefix(line, "at "); ok {
			cur = strings.TrimSpace(rest)
			if !ValidStationCode(cur) {
				ps.Add(field, "station code %q must be 2-20 upper-case letters", cur)
			} else if dir != nil {
				if _, err := dir.Station(cur); err != nil {
					ps.Add(field, "unknown station %q", cur)
				}
			}
			if rr.stations[cur] == nil {
				rr.stations[cur] = &stationRules{}
			}
			continue
		}
		if cur == "" {
			ps.Add(field, "a rule must follow an \"at STATION\" line")
			continue
		}
		lhs, rhs, ok := strings.Cut(line, "->")
		if !ok {
			ps.Add(field, "want: when CONDITION [and CONDITION]... -> action OFFICE [info OFFICE, ...]")
			continue
		}
		dist, err := parseThen(strings.TrimSpace(rhs))
		if err != nil {
			ps.Add(field, "%s", ErrorMessage(err))
			continue
		}
		if dir != nil {
			if st, err := dir.Station(cur); err == nil {
				for _, o := range dist.Offices() {
					if !st.HasOffice(o) {
						ps.Add(field, "station %s has no office %q", cur, o)
					}
				}
			}
		}
		lhs = strings.TrimSpace(lhs)
		sr := rr.stations[cur]
		if lhs == "default" {
			if sr.def != nil {
				ps.Add(field, "station %s has a default already", cur)
			}
			d := dist
			sr.def = &d
			continue
		}
		conds, err := parseConditions(lhs)
		if err != nil {
			ps.Add(field, "%s", ErrorMessage(err))
			continue
		}
		sr.rules = append(sr.rules, RoutingRule{Line: n, Conditions: conds, Then: dist})
	}
	if err := sc.Err(); err != nil {
		ps.Add("", "%v", err)
	}
	for _, code := range rr.Stations() {
		if rr.stations[code].def == nil {
			ps.Add("at "+code, "station %s has no default rule; every station needs one to catch the rest", code)
		}
	}
	if err := ps.Err("invalid routing rules"); err != nil {
		return nil, err
	}
	return rr, nil
}

// Stations returns the stations that have rules, sorted.
func (rr *RoutingRules) Stations() []string {
	var out []string
	for c := range rr.stations {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func parseThen(s string) (Distribution, error) {
	f := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(f) < 2 || f[0] != "action" {
		return Distribution{}, Errorf(EINVALID, "after -> want: action OFFICE [info OFFICE, ...]")
	}
	d := Distribution{Action: f[1], Info: []string{}}
	if !ValidOfficeCode(d.Action) {
		return d, Errorf(EINVALID, "office symbol %q is malformed", d.Action)
	}
	if len(f) > 2 {
		if f[2] != "info" {
			return d, Errorf(EINVALID, "after the action office want \"info\", got %q", f[2])
		}
		for _, o := range f[3:] {
			if !ValidOfficeCode(o) {
				return d, Errorf(EINVALID, "office symbol %q is malformed", o)
			}
			if o != d.Action && !contains(d.Info, o) {
				d.Info = append(d.Info, o)
			}
		}
	}
	return d, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func parseConditions(s string) ([]Condition, error) {
	rest, ok := strings.CutPrefix(s, "when ")
	if !ok {
		return nil, Errorf(EINVALID, "a rule starts with \"when\" or is \"default\"")
	}
	var conds []Condition
	for _, part := range splitUnquoted(rest, " and ") {
		part = strings.TrimSpace(part)
		kind, val, _ := strings.Cut(part, " ")
		if !conditionKinds[kind] {
			return nil, Errorf(EINVALID, "unknown condition %q (want tag, subject, caption, from, addressee, role or precedence)", kind)
		}
		val = strings.TrimSpace(val)
		var values []string
		if kind == "subject" {
			for _, v := range splitUnquoted(val, ",") {
				v = strings.Trim(strings.TrimSpace(v), `"`)
				if v != "" {
					values = append(values, v)
				}
			}
		} else {
			for _, v := range strings.Split(val, ",") {
				v = strings.ToUpper(strings.TrimSpace(v))
				if kind == "role" {
					v = strings.ToLower(v)
				}
				if v != "" {
					values = append(values, v)
				}
			}
		}
		if len(values) == 0 {
			return nil, Errorf(EINVALID, "condition %q needs a value", kind)
		}
		for _, v := range values {
			switch kind {
			case "caption":
				if !Caption(v).Valid() {
					return nil, Errorf(EINVALID, "unknown caption %q", v)
				}
			case "role":
				if v != string(RoleAction) && v != string(RoleInfo) {
					return nil, Errorf(EINVALID, "role must be action or info, not %q", v)
				}
			case "precedence":
				if _, err := ParsePrecedence(v); err != nil {
					return nil, err
				}
			case "from", "addressee":
				if !ValidStationCode(v) {
					return nil, Errorf(EINVALID, "station code %q must be 2-20 upper-case letters", v)
				}
			}
		}
		if kind == "precedence" {
			for i, v := range values {
				p, _ := ParsePrecedence(v)
				values[i] = p.String()
			}
		}
		conds = append(conds, Condition{Kind: kind, Values: values})
	}
	return conds, nil
}

// splitUnquoted splits s on sep outside double quotes: on the word "and"
// between conditions, on commas between subject phrases.
func splitUnquoted(s, sep string) []string {
	var parts []string
	inQuote := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && strings.HasPrefix(s[i:], sep):
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}
