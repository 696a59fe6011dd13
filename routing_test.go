package cable_test

import (
	"slices"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

const routingFile = `# Routing at the Department and at Moscow.
at STATE
when caption NODIS and from MOSCOW -> action S
when tag UR -> action EUR info INR, S
when subject "arms control" -> action PM info EUR
when subject budget, "foreign aid" -> action ECON
when caption EXDIS, STADIS -> action S/S
when from LONDON -> action EUR/WE
when addressee PARIS -> action EUR/WE info EUR, EUR/WE
when role info -> action INR
when precedence FLASH, o -> action OPS
  default -> action DC/R

at MOSCOW
default -> action POL info ECON ECON
`

// routedCable is a cable no rule at STATE but the default matches.
func routedCable() *cable.Cable {
	return &cable.Cable{Station: "ROME", Precedence: cable.Routine, Classification: cable.Secret,
		To: []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}}, Tags: []string{"PGOV"}, Subject: "Local elections"}
}

func TestDistribute(t *testing.T) {
	rr, err := cable.ParseRoutingRules([]byte(routingFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(c *cable.Cable)
		action string
		info   []string
	}{
		{"default", func(c *cable.Cable) {}, "DC/R", nil},
		{"tag", func(c *cable.Cable) { c.Tags = append(c.Tags, "UR") }, "EUR", []string{"INR", "S"}},
		{"tag in lower case", func(c *cable.Cable) { c.Tags = []string{"ur"} }, "EUR", []string{"INR", "S"}},
		{"first match wins", func(c *cable.Cable) {
			c.Station, c.Tags, c.Captions = "MOSCOW", []string{"UR"}, []cable.Caption{cable.NODIS}
		}, "S", nil},
		{"every condition must hold", func(c *cable.Cable) { c.Captions = []cable.Caption{cable.NODIS} }, "DC/R", nil},
		{"subject phrase", func(c *cable.Cable) { c.Subject = "Arms-control talks resume" }, "PM", []string{"EUR"}},
		{"subject phrase in lower case", func(c *cable.Cable) { c.Subject = "on arms control" }, "PM", []string{"EUR"}},
		{"subject words apart", func(c *cable.Cable) { c.Subject = "Arms and control" }, "DC/R", nil},
		{"subject word", func(c *cable.Cable) { c.Subject = "The 1947 budget." }, "ECON", nil},
		{"subject second alternative", func(c *cable.Cable) { c.Subject = "FOREIGN AID BILL" }, "ECON", nil},
		{"subject word inside another", func(c *cable.Cable) { c.Subject = "Budgetary matters" }, "DC/R", nil},
		{"caption", func(c *cable.Cable) { c.Captions = []cable.Caption{cable.STADIS} }, "S/S", nil},
		{"caption, other alternative", func(c *cable.Cable) { c.Captions = []cable.Caption{cable.LIMDIS, cable.EXDIS} }, "S/S", nil},
		{"caption not listed", func(c *cable.Cable) { c.Captions = []cable.Caption{cable.LIMDIS} }, "DC/R", nil},
		{"from", func(c *cable.Cable) { c.Station = "LONDON" }, "EUR/WE", nil},
		{"addressee", func(c *cable.Cable) {
			c.To = append(c.To, cable.Addressee{Station: "PARIS", Role: cable.RoleInfo})
		}, "EUR/WE", []string{"EUR"}},
		{"role", func(c *cable.Cable) {
			c.To = []cable.Addressee{{Station: "BONN", Role: cable.RoleAction}, {Station: "STATE", Role: cable.RoleInfo}}
		}, "INR", nil},
		{"role of another station", func(c *cable.Cable) {
			c.To = []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "BONN", Role: cable.RoleInfo}}
		}, "DC/R", nil},
		{"precedence", func(c *cable.Cable) { c.Precedence = cable.Flash }, "OPS", nil},
		{"precedence by prosign", func(c *cable.Cable) { c.Precedence = cable.Immediate }, "OPS", nil},
		{"precedence not listed", func(c *cable.Cable) { c.Precedence = cable.Priority }, "DC/R", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := routedCable()
			tc.mutate(c)
			d, ok := rr.Distribute(c, "STATE")
			if !ok || d.Action != tc.action || !slices.Equal(d.Info, tc.info) || d.Info == nil {
				t.Fatalf("Distribute = %+v, %v; want action %s info %q", d, ok, tc.action, tc.info)
			}
		})
	}

	d, ok := rr.Distribute(routedCable(), "MOSCOW")
	if !ok || d.Action != "POL" || !slices.Equal(d.Info, []string{"ECON"}) {
		t.Fatalf("at MOSCOW: %+v, %v", d, ok)
	}
	// The caller owns the distribution it gets.
	d.Info[0] = "CHANGED"
	if again, _ := rr.Distribute(routedCable(), "MOSCOW"); again.Info[0] != "ECON" {
		t.Fatal("changing a distribution changed the rules")
	}
	if d, ok := rr.Distribute(routedCable(), "LONDON"); ok || d.Action != "" {
		t.Fatalf("a station without rules: %+v, %v", d, ok)
	}
	var none *cable.RoutingRules
	if _, ok := none.Distribute(routedCable(), "STATE"); ok {
		t.Fatal("nil rules distribute")
	}
	got := rr.Stations()
	slices.Sort(got)
	if !slices.Equal(got, []string{"MOSCOW", "STATE"}) {
		t.Fatalf("Stations() = %q", got)
	}
}

// TestDistributeQuotedComma checks that a quoted subject phrase is one
// alternative even when it holds a comma.
func TestDistributeQuotedComma(t *testing.T) {
	rr, err := cable.ParseRoutingRules([]byte("at STATE\nwhen subject \"war, peace\", famine -> action PM\ndefault -> action DC/R\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for subject, want := range map[string]string{
		"War, peace":          "PM",
		"War and peace":       "DC/R",
		"War news":            "DC/R",
		"Peace talks":         "DC/R",
		"Famine in the south": "PM",
	} {
		c := routedCable()
		c.Subject = subject
		if d, _ := rr.Distribute(c, "STATE"); d.Action != want {
			t.Errorf("subject %q: action %s, want %s", subject, d.Action, want)
		}
	}
}

func TestParseRoutingRulesWithDirectory(t *testing.T) {
	dir, err := cable.ParseDirectory([]byte(directoryFile + "office MOSCOW ECON\n"))
	if err != nil {
		t.Fatal(err)
	}
	src := "at STATE\nwhen tag UR -> action EUR info DC/R\ndefault -> action DC/R\nat MOSCOW\ndefault -> action POL info ECON\n"
	if _, err := cable.ParseRoutingRules([]byte(src), dir); err != nil {
		t.Fatalf("rules that fit the directory: %v", err)
	}
}

// TestParseRoutingRulesErrors checks that every malformed line is
// reported, all at once, by its line number, in a stable order.
func TestParseRoutingRulesErrors(t *testing.T) {
	lines := []string{
		"# rules",                                      // 1
		"when tag UR -> action EUR",                    // 2: before any at line
		"at state",                                     // 3: malformed station (and, below, no default)
		"at STATE",                                     // 4
		"when tag UR action EUR",                       // 5: no ->
		"when tag UR -> EUR",                           // 6: no action
		"when tag UR -> action eur",                    // 7: malformed office
		"when tag UR -> action EUR cc S",               // 8: cc for info
		"when tag UR -> action EUR info s",             // 9: malformed info office
		"if tag UR -> action EUR",                      // 10: not when
		"when color RED -> action EUR",                 // 11: unknown condition
		"when tag -> action EUR",                       // 12: no value
		"when caption ROGER -> action EUR",             // 13: unknown caption
		"when role cc -> action EUR",                   // 14: unknown role
		"when precedence SOON -> action EUR",           // 15: unknown precedence
		"when from moscow1 -> action EUR",              // 16: malformed station
		"when addressee X -> action EUR",               // 17: malformed station
		"default -> action DC/R",                       // 18
		"default -> action S",                          // 19: second default
		"at KABUL",                                     // 20: unknown to the directory
		"default -> action POL",                        // 21
		"at MOSCOW",                                    // 22
		"when tag UR and subject x -> action NEA",      // 23: MOSCOW has no NEA
		"when tag UR and caption NOFORN -> action POL", // 24: NOFORN is not a caption
		"default -> action POL",                        // 25
		"at LONDON",                                    // 26: no default
		"when tag UR and tag PREL -> action EUR",       // 27: LONDON has no EUR
	}
	src := []byte(strings.Join(lines, "\n"))
	_, err := cable.ParseRoutingRules(src, testDirectory(t))
	got := problemFields(t, err)
	want := []string{"line 2", "line 3", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10", "line 11", "line 12",
		"line 13", "line 14", "line 15", "line 16", "line 17", "line 19", "line 20", "line 23", "line 24", "line 27",
		"at state", "at LONDON"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problem fields =\n%q\nwant\n%q\nerror: %v", got, want, err)
	}
	for range 20 {
		_, again := cable.ParseRoutingRules(src, testDirectory(t))
		if again.Error() != err.Error() {
			t.Fatalf("the problems come in another order:\n%v\n%v", err, again)
		}
	}

	// Without a directory the stations and offices are not checked.
	_, err = cable.ParseRoutingRules(src, nil)
	got = problemFields(t, err)
	want = slices.DeleteFunc(want, func(f string) bool { return f == "line 20" || f == "line 23" || f == "line 27" })
	if !slices.Equal(got, want) {
		t.Fatalf("without directory: problem fields =\n%q\nwant\n%q", got, want)
	}
}

func TestParseRoutingRulesEmpty(t *testing.T) {
	rr, err := cable.ParseRoutingRules([]byte("# nothing yet\n\n"), nil)
	if err != nil || len(rr.Stations()) != 0 {
		t.Fatalf("empty rules: %v, %v", rr, err)
	}
	if _, ok := rr.Distribute(routedCable(), "STATE"); ok {
		t.Fatal("empty rules distribute")
	}
}

func BenchmarkDistribute(b *testing.B) {
	rr, err := cable.ParseRoutingRules([]byte(routingFile), nil)
	if err != nil {
		b.Fatal(err)
	}
	c := routedCable() // tried against three rules before the subject rule matches
	c.Subject = "Consultations on the spring budget review and on foreign trade"
	for b.Loop() {
		if d, ok := rr.Distribute(c, "STATE"); !ok || d.Action != "ECON" {
			b.Fatal(d, ok)
		}
	}
}

// BenchmarkDistributeBaselineScan is the raw work underneath: one pass of
// upper-casing and splitting the subject into words and looking for them.
func BenchmarkDistributeBaselineScan(b *testing.B) {
	subject := "Consultations on the spring budget review and on foreign trade"
	for b.Loop() {
		if !slices.Contains(strings.Fields(strings.ToUpper(subject)), "BUDGET") {
			b.Fatal("no budget")
		}
	}
}
