package transcript

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// line is one line of the input with what the transcriber's strike-through
// marks (~~SECRET~~) said taken out.
type line struct {
	n      int    // 1-based line number in the input
	raw    string // as transcribed, trimmed
	text   string // without struck-through segments, spaces collapsed
	struck []string
}

var struckRE = regexp.MustCompile(`~~([^~]*)~~`)

func splitLines(src []byte) []line {
	s := string(src)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	parts := strings.Split(s, "\n")
	out := make([]line, len(parts))
	for i, p := range parts {
		raw := strings.TrimSpace(p)
		l := line{n: i + 1, raw: raw}
		t := raw
		if strings.Contains(t, "~~") {
			for _, m := range struckRE.FindAllStringSubmatch(t, -1) {
				l.struck = append(l.struck, strings.TrimSpace(m[1]))
			}
			t = struckRE.ReplaceAllString(t, " ")
			t = strings.ReplaceAll(t, "~~", " ")
		}
		l.text = strings.Join(strings.Fields(t), " ")
		out[i] = l
	}
	return out
}

// classWords reads a banner: one or more classification words and
// nothing else ("SECRET", "SECRET SECRET", "TOP SECRET"). It returns the
// highest classification and the marking as written.
func classWords(s string) (cable.Classification, string, bool) {
	f := strings.Fields(strings.ToUpper(strings.Trim(s, " .-")))
	if len(f) == 0 {
		return 0, "", false
	}
	var hi cable.Classification
	marking := ""
	for i := 0; i < len(f); i++ {
		w := strings.Trim(f[i], ".,:;-")
		var c cable.Classification
		m := w
		switch w {
		case "TOP":
			if i+1 < len(f) && strings.Trim(f[i+1], ".,:;-") == "SECRET" {
				c, m = cable.TopSecret, "TOP SECRET"
				i++
			}
		case "SECRET":
			c = cable.Secret
		case "CONFIDENTIAL":
			c = cable.Confidential
		case "RESTRICTED":
			c = restrictedAs
		case "UNCLASSIFIED":
			c = cable.Unclassified
		}
		if c == 0 {
			return 0, "", false
		}
		if c > hi || (c == hi && m != marking && m == "RESTRICTED") {
			hi, marking = c, m
		}
	}
	return hi, marking, true
}

// restrictedAs is the classification a 1940s RESTRICTED marking is filed
// under. RESTRICTED was a security classification below CONFIDENTIAL,
// abolished in 1953; the domain has no such level, and filing it lower
// (LIMITED OFFICIAL USE, an administrative control) would open it to
// people never cleared for it, so it is filed as CONFIDENTIAL and the
// marking as written is kept beside it.
const restrictedAs = cable.Confidential

var (
	pageHeaderRE = regexp.MustCompile(`^-\s*[0-9][0-9¹²³⁄/₁₂½]*\s*-?\s*(?:#\s*(\d{1,6})|(\d{1,6})\s*,\s*[A-Za-z]{3,9}\.?\s+\d)`)
	pageFromRE   = regexp.MustCompile(`(?i)\b(from|to)\s+([A-Za-z][A-Za-z .'-]*?)(?:\s+via\s+([A-Za-z][A-Za-z .'-]*?))?\.?$`)

	declassifiedRE = regexp.MustCompile(`(?i)^\(?\s*declassified\b`)
	eoRE           = regexp.MustCompile(`(?i)^\(?\s*E\s*\.?\s*O\s*\.?\s*(\d{4,5})\b[\s,.]*(?:Sec(?:tion)?s?\.?\s*(.*))?$`)
	letterRE       = regexp.MustCompile(`(?i)\b(?:letter|inform\.?|memo(?:randum)?)\b.*\b(1[89]\d\d|20\d\d)\.?$`)
	stateWordRE    = regexp.MustCompile(`(?i)\bstate\b`)
	reviewerRE     = regexp.MustCompile(`(?i)^by\b[\s.:]*(.*)$`)
	stampWordRE    = regexp.MustCompile(`(?i)\b(?:nars|hars|name|date|dated)\b|\d{1,2}-\d{1,2}`)
	originalRE     = regexp.MustCompile(`(?i)^original\s+(?:date|class(?:ification)?)\b`)

	formTitleRE     = regexp.MustCompile(`(?i)^(?:(incoming|outgoing)\s+telegrams?|telegram\s+(sent|received))\.?$`)
	departmentRE    = regexp.MustCompile(`(?i)^department\s+of\s+state\.?$`)
	actionRE        = regexp.MustCompile(`(?i)^action\s*:\s*([A-Z0-9/ ,-]*)$`)
	infoRE          = regexp.MustCompile(`(?i)^info\b\s*:?\s*([A-Z0-9/ ,-]*)$`)
	noParaphraseRE  = regexp.MustCompile(`(?i)^(?:[A-Z][A-Z0-9/-]{0,5}\s+)?(?:no\s+paraphrase\s+necessary|paraphrase\s+not\s+(?:required|necessary))\.?$`)
	correctedPageRE = regexp.MustCompile(`(?i)^corrected\s+(?:page|copy)\b`)
	officeLineRE    = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,5}(?:[/-][A-Z0-9]{1,5})*(?:\s+[A-Z][A-Z0-9]{0,5}(?:[/-][A-Z0-9]{1,5})*){0,3}$`)

	starMarkRE   = regexp.MustCompile(`^\*[^*]{0,12}\*?$|^[^*]{1,12}\*$`)
	initialsRE   = regexp.MustCompile(`^[A-Z]{1,4}(?:[/-][A-Z]{1,4}){1,4}$`)
	draftingRE   = regexp.MustCompile(`^[A-Z]{1,6}(?::[A-Za-z]{1,8}){1,5}$`)
	numericRE    = regexp.MustCompile(`^[\d\s.,/-]*\d[\d\s.,/-]*$`)
	terminalRE   = regexp.MustCompile(`[.!?:;"'”’)\]]$`)
	headingRE    = regexp.MustCompile(`(?i)^(?:part|section)\s+[A-Za-z0-9]+\b`)
	paraMarkerRE = regexp.MustCompile(`^(?:\(\s*(?:[A-Za-z]|\d{1,2}|[IVXivx]{1,4}|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve)\s*\)|(?:One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve|\d{1,2}|[A-Z])\.)\s|^[-–—•]\s`)
	signatureRE  = regexp.MustCompile(`^[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+){0,2}(?:\s*,\s*(?:ACTING|Acting))?\.?$`)
	garbleRE     = regexp.MustCompile(`(?i)\(\s*\*\s*\)|\((?:groups?\s+)?garbled?\)`)
	garbleStarRE = regexp.MustCompile(`\(\s*\*\s*\)`)
)

// stampPart says which part of a declassification stamp a line is.
type stampPart int

const (
	notStamp stampPart = iota
	stampDeclassified
	stampAuthority
	stampLetter
	stampReviewer
	stampOther
)

// stampLine recognises a line of a declassification stamp.
func stampLine(t string) stampPart {
	switch {
	case declassifiedRE.MatchString(t):
		return stampDeclassified
	case eoRE.MatchString(t):
		return stampAuthority
	case len(t) <= 70 && letterRE.MatchString(t) && stateWordRE.MatchString(t):
		return stampLetter
	case len(t) <= 50 && reviewerRE.MatchString(t) && isReviewer(t):
		return stampReviewer
	case originalRE.MatchString(t):
		return stampOther
	}
	return notStamp
}

func isReviewer(t string) bool {
	rest := reviewerRE.FindStringSubmatch(t)[1]
	if stampWordRE.MatchString(rest) {
		return true
	}
	f := strings.Fields(rest)
	if len(f) == 0 || len(f) > 2 {
		return false
	}
	for _, w := range f {
		if strings.IndexFunc(w, unicode.IsLower) >= 0 && !strings.ContainsAny(w, ".*/") {
			return false
		}
	}
	return true
}

// wordsOf returns the words of s, lower-cased, without punctuation: the
// form catchwords are compared in.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func hasPrefixWords(w, prefix []string) bool {
	if len(prefix) == 0 || len(w) < len(prefix) {
		return false
	}
	for i := range prefix {
		if w[i] != prefix[i] {
			return false
		}
	}
	return true
}

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
