package http

import (
	"html/template"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// Banner is the classification banner shown at the top and bottom of a
// cable: the classification and its controls, in the classification's
// colour.
type Banner struct {
	Classification cable.Classification
	// Text is the banner's words: "SECRET//NODIS//NOFORN".
	Text string
	// Class is the CSS class giving the standard colour: cls-s.
	Class string
}

// NewBanner returns the banner of a cable marked c with captions and
// handling. Of the handling instructions only NOFORN is a marking.
func NewBanner(c cable.Classification, captions []cable.Caption, handling []cable.Handling) Banner {
	if !c.Valid() {
		return Banner{Text: "CLASSIFICATION NOT SET", Class: "cls-none"}
	}
	parts := []string{c.String()}
	if cs := cable.SortCaptions(captions); len(cs) > 0 {
		names := make([]string, len(cs))
		for i, k := range cs {
			names[i] = string(k)
		}
		parts = append(parts, strings.Join(names, "/"))
	}
	for _, h := range handling {
		if h == cable.NOFORN {
			parts = append(parts, string(cable.NOFORN))
			break
		}
	}
	return Banner{Classification: c, Text: strings.Join(parts, "//"), Class: classificationClass(c)}
}

// classificationClass returns the CSS class of a classification's colour.
func classificationClass(c cable.Classification) string {
	switch c {
	case cable.Unclassified:
		return "cls-u"
	case cable.LimitedOfficialUse:
		return "cls-lou"
	case cable.Confidential:
		return "cls-c"
	case cable.Secret:
		return "cls-s"
	case cable.TopSecret:
		return "cls-ts"
	}
	return "cls-none"
}

// precedenceClass returns the CSS class that makes urgent precedences stand out.
func precedenceClass(p cable.Precedence) string {
	switch p {
	case cable.Flash:
		return "prec-flash"
	case cable.Immediate:
		return "prec-immediate"
	}
	return "prec-normal"
}

// formatUTC writes an instant in UTC to the minute, as message centres log it.
func formatUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// formatLocal writes an instant in a station's local time with its zone.
func formatLocal(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}

// localTime is an instant shown in UTC and in a station's local time.
type localTime struct {
	UTC     string
	DTG     string
	Local   string
	Station string
	Zone    string
}

func (s *Server) localTime(t time.Time, station string) localTime {
	lt := localTime{UTC: formatUTC(t), DTG: cable.FormatDTG(t), Station: station, Local: formatLocal(t, time.UTC), Zone: "UTC"}
	if s.Directory != nil {
		if st, err := s.Directory.Station(station); err == nil {
			lt.Local = formatLocal(t, st.Location())
			lt.Zone = st.Location().String()
		}
	}
	return lt
}

// snippetHTML makes a search snippet safe to show: everything is escaped,
// and the marks the records put around matching words («...», the
// sqlite and postgres packages' SnippetStart and SnippetEnd) become
// <mark> when they pair up.
func snippetHTML(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	if strings.Count(esc, "«") != strings.Count(esc, "»") {
		return template.HTML(esc)
	}
	return template.HTML(strings.NewReplacer("«", "<mark>", "»", "</mark>").Replace(esc))
}

var templateFuncs = template.FuncMap{
	"clsClass":  classificationClass,
	"precClass": precedenceClass,
	"dtg": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return cable.FormatDTG(t)
	},
	"utc": formatUTC,
	// delivery says where a transmission is: queued, in transit at a
	// relay, received with its control number, overdue.
	"delivery": func(s cable.TransmissionState, p cable.Precedence) string { return s.Describe(p, time.Now()) },
	"deliveryClass": func(s cable.TransmissionState, p cable.Precedence) string {
		if s.Overdue(p, time.Now()) {
			return "overdue"
		}
		return s.State
	},
	"snippet": snippetHTML,
	"join": func(xs any, sep string) string {
		switch v := xs.(type) {
		case []string:
			return strings.Join(v, sep)
		case []cable.Caption:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = string(x)
			}
			return strings.Join(parts, sep)
		case []cable.Handling:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = string(x)
			}
			return strings.Join(parts, sep)
		}
		return ""
	},
	"has": func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	},
	"add":   func(a, b int) int { return a + b },
	"upper": strings.ToUpper,
}

// parsePages parses each page template together with the layout.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "inbox", "sent", "search", "cable", "draft", "error", "import", "import_preview", "import_volume", "import_result"} {
		pages[name] = template.Must(template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}
