package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sharedTestFile returns the path of a file under the project's shared
// directory, which sits beside the repository (../shared from its root),
// skipping the test when it is absent.
func sharedTestFile(t *testing.T, parts ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent", p)
	}
	return p
}

// brUpload opens the import page from the navigation and uploads path as
// kind (transcript or tei).
func brUpload(t *testing.T, ctx context.Context, kind, path string, wait string) {
	t.Helper()
	brDo(t, ctx, "upload "+filepath.Base(path),
		chromedp.Click(chromedp.CSS("#nav-import")),
		chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.Click(chromedp.CSS("#kind-"+kind)),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{path}),
		chromedp.Click(chromedp.CSS("#upload")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
}

// brViewportScreenshot saves what the window shows to
// CABLE_SCREENSHOT_DIR, if set: the preview page is too long for a
// screenshot of the whole.
func brViewportScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CABLE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowserArchivist imports the seed's scanned transcript and a TEI
// volume through the archivist's pages of a demo node.
func TestBrowserArchivist(t *testing.T) {
	browserPath(t)
	seed := sharedTestFile(t, "seeds", "000_e3225f346bbef510.txt")
	volume := sharedTestFile(t, "testdata", "frus", "frus1949v07p1-d152-d154.xml")
	n := startTestNode(t)
	ctx := newBrowser(t, 3*time.Minute)

	t.Run("transcript", func(t *testing.T) {
		src, err := os.ReadFile(seed)
		if err != nil {
			t.Fatal(err)
		}
		brSignIn(t, ctx, n, "archivist")
		brUpload(t, ctx, "transcript", seed, "#correct-form")

		if got := brText(t, ctx, "#record-id"); got != "1946MOSCOW00511" {
			t.Errorf("preview of %q", got)
		}
		// The source on the left is the file as uploaded.
		shown := brEval[string](t, ctx, `document.querySelector('#source-text').textContent`)
		if strings.TrimSpace(shown) != strings.TrimSpace(string(src)) {
			t.Errorf("the source pane shows %d bytes, the file has %d", len(shown), len(src))
		}
		text := brText(t, ctx, "#preview-text")
		for _, want := range []string{"MOSCOW 00511", "KENNAN", "221800Z FEB 46", "REF: STATE 284"} {
			if !strings.Contains(text, want) {
				t.Errorf("rebuilt cable lacks %q:\n%.600s", want, text)
			}
		}
		if got := brText(t, ctx, "#preview-banner"); got != "SECRET" {
			t.Errorf("banner %q", got)
		}
		// The stamps as a table: page, authority, section, letter,
		// reviewer, date (the cable was declassified under E.O. 11652 by
		// a Department letter of 1972).
		stamps := brText(t, ctx, "#stamps")
		for _, want := range []string{"DECLASSIFIED", "E.O. 11652", "1972"} {
			if !strings.Contains(stamps, want) {
				t.Errorf("declassification stamps lack %q:\n%s", want, stamps)
			}
		}
		if rows := brEval[int](t, ctx, `document.querySelectorAll('#stamps tbody tr').length`); rows < 10 {
			t.Errorf("%d declassification stamps in the table", rows)
		}
		if full := brEval[int](t, ctx, `Array.from(document.querySelectorAll('#stamps tbody tr')).filter(r => Array.from(r.cells).every(c => c.textContent.trim() != '')).length`); full == 0 {
			t.Error("no stamp has every column read")
		}
		if got := brText(t, ctx, "#detail-via"); got != "WAR" {
			t.Errorf("route via %q", got)
		}
		if got := brText(t, ctx, "#preview-control"); got != "8963" {
			t.Errorf("control number %q", got)
		}
		if got := brText(t, ctx, "#preview-action"); got != "EUR" {
			t.Errorf("action office %q", got)
		}
		brViewportScreenshot(t, ctx, "import-preview-1946MOSCOW00511.png")
		brNoSideScroll(t, ctx, "the import preview")

		// Correct the subject, preview again, file.
		brDo(t, ctx, "correct the subject",
			chromedp.SetValue(chromedp.CSS("#f-subject"), "THE LONG TELEGRAM"),
			chromedp.Click(chromedp.CSS("#preview-again")),
			chromedp.WaitVisible(chromedp.CSS("#check-ok")),
		)
		if text := brText(t, ctx, "#preview-text"); !strings.Contains(text, "SUBJECT: THE LONG TELEGRAM") {
			t.Errorf("corrected preview:\n%.600s", text)
		}
		if got := brText(t, ctx, "#detail-corrected"); got != "subject" {
			t.Errorf("corrected fields %q", got)
		}
		brDo(t, ctx, "file", chromedp.Click(chromedp.CSS("#file")), chromedp.WaitVisible(chromedp.CSS("#cable-id")))
		if got := brText(t, ctx, "#cable-id"); got != "1946MOSCOW00511" {
			t.Fatalf("filed, the cable view shows %q", got)
		}
		if got := brText(t, ctx, "#flash"); got != "Filed 1946MOSCOW00511" {
			t.Errorf("flash %q", got)
		}
		if got := brText(t, ctx, "#historical-note"); !strings.Contains(got, "Historical record") {
			t.Errorf("historical note %q", got)
		}
		brSignOut(t, ctx)

		// reader.eur reads it: it was distributed to EUR for action.
		brSignIn(t, ctx, n, "reader.eur")
		brDo(t, ctx, "open the filed cable", chromedp.Navigate(n.URL+"/cables/1946MOSCOW00511"), chromedp.WaitVisible(chromedp.CSS("main")))
		if !brEval[bool](t, ctx, `!!document.querySelector('#cable-id')`) {
			t.Fatalf("reader.eur cannot read the filed cable: %s", brText(t, ctx, "main"))
		}
		if got := brText(t, ctx, ".cable-title .subject"); got != "THE LONG TELEGRAM" {
			t.Errorf("subject %q", got)
		}
		if got := brText(t, ctx, "#action-office"); got != "EUR" {
			t.Errorf("action office %q", got)
		}
		if got := brText(t, ctx, "#control-number"); got != "8963" {
			t.Errorf("control number %q", got)
		}
		if brEval[bool](t, ctx, `!!document.querySelector('#nav-import')`) {
			t.Error("reader.eur sees the Import link")
		}
		brSignOut(t, ctx)
	})

	t.Run("tei", func(t *testing.T) {
		brSignIn(t, ctx, n, "archivist")
		brUpload(t, ctx, "tei", volume, "#documents")
		if got := brEval[int](t, ctx, `document.querySelectorAll('#documents tbody tr').length`); got != 3 {
			t.Fatalf("the volume lists %d documents, want 3", got)
		}
		for _, id := range []string{"d152", "d153", "d154"} {
			if !brEval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('#doc-%s button.review')`, id)) {
				t.Errorf("no Review and file button for %s", id)
			}
		}
		// One document in the correction form: a telegram from a post the
		// directory does not know, shown by its fields.
		brDo(t, ctx, "review d152",
			chromedp.Click(chromedp.CSS("#doc-d152 button.review")),
			chromedp.WaitVisible(chromedp.CSS("#correct-form")),
		)
		if got := brText(t, ctx, "#record-id"); got != "1949BATAVIA00138" {
			t.Errorf("review of d152 shows %q", got)
		}
		if got := brText(t, ctx, "#source-doc"); !strings.Contains(got, "d152") {
			t.Errorf("source pane %q", got)
		}
		if !brEval[bool](t, ctx, `!!(document.querySelector('#preview-text') || document.querySelector('#preview-paragraphs li'))`) {
			t.Error("the rebuilt telegram is not shown")
		}

		brUpload(t, ctx, "tei", volume, "#documents")
		brDo(t, ctx, "file all", chromedp.Click(chromedp.CSS("#file-all")), chromedp.WaitVisible(chromedp.CSS("#results")))
		rows := brEval[[]string](t, ctx, `Array.from(document.querySelectorAll('#results tbody tr')).map(r => r.className)`)
		if len(rows) != 3 {
			t.Fatalf("file all reports %d documents, want 3", len(rows))
		}
		for i, c := range rows {
			if c != "outcome-filed" && c != "outcome-held" && c != "outcome-refused" {
				t.Errorf("document %d: outcome %q", i, c)
			}
		}
		if got := brText(t, ctx, "#file-summary"); !strings.HasPrefix(got, "3 documents:") {
			t.Errorf("summary %q", got)
		}
		for _, id := range []string{"1949BATAVIA00138", "1949STATE00094"} {
			if !brEval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('#results tr.outcome-filed a[href="/cables/%s"]')`, id)) {
				t.Errorf("%s not filed: %s", id, brText(t, ctx, "#results"))
			}
		}
		brDo(t, ctx, "open a filed telegram",
			chromedp.Click(chromedp.CSS(`#results a[href="/cables/1949BATAVIA00138"]`)),
			chromedp.WaitVisible(chromedp.CSS("#cable-id")),
		)
		if !brEval[bool](t, ctx, `!!document.querySelector('#historical-note')`) {
			t.Error("the filed telegram is not shown as historical")
		}
		brSignOut(t, ctx)
	})
}
