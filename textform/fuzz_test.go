package textform_test

import (
	"reflect"
	"testing"

	cable "github.com/cable-archive/cable"
)

var fuzzSeeds = []string{"released.txt", "draft.txt", "aad1976.txt", "cablegate2010.txt", "telegram1947.txt", "malformed.txt"}

// FuzzParse checks that Parse never panics, that it fails only with an
// EINVALID error naming at least one problem, and that a cable it reads
// which validates comes back the same through Render and Parse.
func FuzzParse(f *testing.F) {
	for _, name := range fuzzSeeds {
		text := readTestdata(f, name)
		f.Add(text, false)
		f.Add(text, true)
	}
	form := testForm(f)
	f.Fuzz(func(t *testing.T, text []byte, draft bool) {
		m, err := form.ParseMessage(text, draft)
		if err != nil {
			if cable.ErrorCode(err) != cable.EINVALID || len(cable.ErrorProblems(err)) == 0 {
				t.Fatalf("parse failed without naming a problem: %v", err)
			}
			return
		}
		if m.Cable == nil {
			t.Fatal("parse returned no cable and no error")
		}
		if cable.Validate(m.Cable, cable.ValidateOptions{Directory: form.Directory, Draft: draft}) != nil {
			return
		}
		out, err := form.RenderMessage(m)
		if err != nil {
			t.Fatalf("a valid parsed cable does not render: %v", err)
		}
		back, err := form.ParseMessage(out, draft)
		if err != nil {
			t.Fatalf("the rendering does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip differs:\n%s\nrendering:\n%s", diffCables(m.Cable, back.Cable), out)
		}
	})
}
