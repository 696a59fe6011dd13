package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	cable "github.com/cable-archive/cable"
)

// refRE finds the ways a telegram of the 1940s cites an earlier one:
// "Dept's 284, Feb 3", "Deptel 84 of Feb 1", "urtel 511", "Embtel 12",
// "my 456, March 3", "your telegram 284 of February 3".
var refRE = regexp.MustCompile(`^(?i)(re\s*)?(deptel|depcirtel|deptcirtel|dept'?s|dept’s|department'?s|department’s|embtel|legtel|contel|mytel|ourtel|urtel|your|my|our)\.?(?:\s+(?:telegram|tel|cable|circular|circ\.?|airgram))?\s*(?:no\.?\s*)?(\d{1,5})\b(\s*(?:,|of)\s*[A-Za-z]{3,9}\.?\s+\d{1,2}\b)?`)

// References finds the telegrams a text cites and writes each as the
// field does ("STATE 284"): the Department's telegrams (Dept's, Deptel) are
// STATE's; "my", "our", "mytel" are the sender's; "your", "urtel" the
// addressee's; "Embtel", "Legtel", "Contel" the post's (whichever of
// sender and addressee is not STATE). "your", "my" and "our" count only
// with a date ("your 284 of Feb 3"), so that "my 2 points" is not a
// reference. Each reference is listed once, in order.
func References(text, from, to string) []cable.Reference {
	var out []cable.Reference
	seen := map[string]bool{}
	post := from
	if post == "STATE" {
		post = to
	}
	for _, m := range refMatches(text) {
		word := strings.ToLower(refWordCleaner.Replace(m[2]))
		n, err := strconv.Atoi(m[3])
		if err != nil || n == 0 {
			continue
		}
		var st string
		switch word {
		case "deptel", "depcirtel", "deptcirtel", "depts", "departments":
			st = "STATE"
		case "mytel", "ourtel":
			st = from
		case "my", "our":
			if m[4] == "" {
				continue
			}
			st = from
		case "urtel":
			st = to
		case "your":
			if m[4] == "" {
				continue
			}
			st = to
		case "embtel", "legtel", "contel":
			st = post
		}
		if !cable.ValidStationCode(st) {
			continue
		}
		ref := fmt.Sprintf("%s %d", st, n)
		if !seen[ref] {
			seen[ref] = true
			out = append(out, cable.Reference{Text: ref})
		}
	}
	return out
}

var refWordCleaner = strings.NewReplacer("'", "", "’", "", ".", "")

// refMatches finds refRE's matches in text. The regexp is tried only
// where a word starts with a letter a reference can start with: scanning
// a long text with the whole regexp is many times slower.
func refMatches(text string) [][]string {
	var out [][]string
	for i := 0; i < len(text); i++ {
		if i > 0 && isWordByte(text[i-1]) {
			continue
		}
		if !refWordAt(text, i) {
			continue
		}
		end := min(len(text), i+96)
		for end < len(text) && isWordByte(text[end]) {
			end++
		}
		if m := refRE.FindStringSubmatch(text[i:end]); m != nil {
			out = append(out, m)
			i += len(m[0]) - 1
		}
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b >= 0x80
}

// refWords are the words a reference starts with, lower case, without
// apostrophes; "re" may stand before any of them ("ReDeptel", "Re your").
var refWords = map[string]bool{
	"deptel": true, "depcirtel": true, "deptcirtel": true, "dept": true, "depts": true, "department": true,
	"departments": true, "embtel": true, "legtel": true, "contel": true, "mytel": true, "ourtel": true,
	"urtel": true, "your": true, "my": true, "our": true, "re": true,
}

// refWordAt reports whether the word at text[i:] is one a reference
// starts with.
func refWordAt(text string, i int) bool {
	var buf [16]byte
	w := buf[:0]
	for j := i; j < len(text) && len(w) < len(buf); j++ {
		c := text[j]
		switch {
		case c >= 'A' && c <= 'Z':
			w = append(w, c+0x20)
		case c >= 'a' && c <= 'z':
			w = append(w, c)
		case c == '\'':
		default:
			j = len(text)
		}
	}
	return refWords[string(w)] || len(w) > 2 && w[0] == 'r' && w[1] == 'e' && refWords[string(w[2:])]
}
