package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds Chromium: CABLE_CHROMIUM, else /usr/bin/chromium. The
// test is skipped without it unless CABLE_TEST_BROWSER is set.
func browserPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CABLE_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CABLE_TEST_BROWSER") != "" {
			t.Fatalf("CABLE_TEST_BROWSER is set but there is no Chromium at %s: %v", path, err)
		}
		t.Skipf("no Chromium at %s (set CABLE_CHROMIUM, or CABLE_TEST_BROWSER to make this a failure)", path)
	}
	return path
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// a context for its first tab.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	parent, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancelTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(browserPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// brDo runs steps, failing the test with what it was doing.
func brDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// brText returns the visible text of the element matching sel.
func brText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// brEval evaluates a JavaScript expression.
func brEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func brSignIn(t *testing.T, ctx context.Context, n *testNode, name string) {
	t.Helper()
	brDo(t, ctx, "sign in as "+name,
		chromedp.Navigate(n.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), n.Passwords[name]),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#user-name")),
	)
	if got := brText(t, ctx, "#user-name"); got != name {
		t.Fatalf("signed in as %q, want %q", got, name)
	}
}

func brSignOut(t *testing.T, ctx context.Context) {
	t.Helper()
	brDo(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
}

// brNoSideScroll checks that the page fits a phone's width: only the
// cable text may scroll sideways, inside its own box.
func brNoSideScroll(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	brDo(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	defer brDo(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 1000))
	if !brEval[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth + 1`) {
		w := brEval[int](t, ctx, `document.documentElement.scrollWidth`)
		t.Errorf("%s is %dpx wide on a 390px phone", page, w)
	}
}

func brScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CABLE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the cable view: %s", path)
}

var brIDPattern = regexp.MustCompile(`^\d{4}MOSCOW\d{5}$`)

func TestBrowserDraftReleaseRead(t *testing.T) {
	browserPath(t)
	n := startTestNode(t)
	ctx := newBrowser(t, 3*time.Minute)
	decl := time.Now().UTC().AddDate(10, 0, 0).Format(time.DateOnly)

	brSignIn(t, ctx, n, "drafter.moscow")

	// An invalid draft: every problem beside its field, what was typed kept.
	brDo(t, ctx, "invalid draft",
		chromedp.Navigate(n.URL+"/draft"),
		chromedp.WaitVisible(chromedp.CSS("#draft-form")),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "PREL"),
		chromedp.SetValue(chromedp.CSS("#f-p1-class"), "U"),
		chromedp.SendKeys(chromedp.CSS("#f-p1"), "A paragraph with no subject above it."),
		chromedp.Click(chromedp.CSS("#check")),
		chromedp.WaitVisible(chromedp.CSS("#problems")),
	)
	if got := brText(t, ctx, "#e-subject"); !strings.Contains(got, "subject is required") {
		t.Errorf("beside the subject: %q", got)
	}
	if got := brText(t, ctx, "#e-action"); !strings.Contains(got, "action addressee") {
		t.Errorf("beside the action addressees: %q", got)
	}
	if !brEval[bool](t, ctx, `document.querySelector('#f-subject').closest('.field').classList.contains('has-error')`) {
		t.Error("the subject field is not marked as in error")
	}
	if got := brText(t, ctx, "#problems"); !strings.Contains(got, "Subject") {
		t.Errorf("summary: %q", got)
	}
	if v := brEval[string](t, ctx, `document.querySelector('#f-p1').value`); v != "A paragraph with no subject above it." {
		t.Errorf("the paragraph typed was lost: %q", v)
	}
	brNoSideScroll(t, ctx, "the drafting form")

	// A valid draft: action STATE, tag UR, a SECRET and an UNCLASSIFIED
	// paragraph, the authority block.
	brDo(t, ctx, "fill the draft",
		chromedp.Navigate(n.URL+"/draft"),
		chromedp.WaitVisible(chromedp.CSS("#draft-form")),
		chromedp.SetValue(chromedp.CSS("#f-precedence"), "IMMEDIATE"),
		chromedp.SetValue(chromedp.CSS("#f-action"), "STATE"),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "PREL UR"),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "SOVIET POSTWAR OUTLOOK"),
		chromedp.SetValue(chromedp.CSS("#f-p1-class"), "S"),
		chromedp.SendKeys(chromedp.CSS("#f-p1"), "The USSR still lives in antagonistic capitalist encirclement."),
		chromedp.SetValue(chromedp.CSS("#f-p2-class"), "U"),
		chromedp.SendKeys(chromedp.CSS("#f-p2"), "Further parts follow by separate telegram."),
		chromedp.SendKeys(chromedp.CSS("#f-signature"), "KENNAN"),
		chromedp.SendKeys(chromedp.CSS("#f-classified_by"), "GEORGE F. KENNAN, CHARGE"),
		chromedp.Click(chromedp.CSS(`input[name="reason"][value="d"]`)),
		chromedp.Click(chromedp.CSS(`input[name="declassify_kind"][value="date"]`)),
		chromedp.SetValue(chromedp.CSS("#f-declassify_date"), decl),
	)
	// The script computes the banner from the paragraphs as they are typed.
	if got := brText(t, ctx, "#draft-banner"); got != "SECRET" {
		t.Errorf("live banner %q, want SECRET", got)
	}
	brDo(t, ctx, "check", chromedp.Click(chromedp.CSS("#check")), chromedp.WaitVisible(chromedp.CSS("#check-ok")))
	if got := brText(t, ctx, "#draft-banner"); got != "SECRET" {
		t.Errorf("banner after Check %q, want SECRET", got)
	}
	if !brEval[bool](t, ctx, `document.querySelector('#draft-banner').classList.contains('cls-s')`) {
		t.Error("the SECRET banner is not in SECRET's colour")
	}

	brDo(t, ctx, "release", chromedp.Click(chromedp.CSS("#release")), chromedp.WaitVisible(chromedp.CSS("#cable-id")))
	id := brText(t, ctx, "#cable-id")
	if !brIDPattern.MatchString(id) {
		t.Fatalf("cable view shows identifier %q", id)
	}
	if got := brText(t, ctx, "#flash"); got != "Released "+id {
		t.Errorf("flash %q", got)
	}
	for _, sel := range []string{"#banner-top", "#banner-bottom"} {
		if got := brText(t, ctx, sel); got != "SECRET" {
			t.Errorf("%s says %q, want SECRET", sel, got)
		}
	}
	if text := brText(t, ctx, "#cable-text"); !strings.Contains(text, "1. (S) THE USSR STILL LIVES") && !strings.Contains(text, "1. (S) The USSR still lives") {
		t.Errorf("cable text lacks the portion-marked paragraph:\n%s", text)
	}
	brSignOut(t, ctx)

	// reader.eur finds it in the EUR inbox once STATE has received it.
	brSignIn(t, ctx, n, "reader.eur")
	brDo(t, ctx, "EUR inbox", chromedp.Navigate(n.URL+"/inbox?office=EUR"), chromedp.WaitVisible(chromedp.CSS("main")))
	link := fmt.Sprintf(`a[href="/cables/%s"]`, id)
	deadline := time.Now().Add(30 * time.Second)
	for !brEval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, link)) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared in the EUR inbox", id)
		}
		time.Sleep(200 * time.Millisecond)
		brDo(t, ctx, "reload the inbox", chromedp.Reload())
	}
	brNoSideScroll(t, ctx, "the inbox")
	brDo(t, ctx, "open the cable", chromedp.Click(chromedp.CSS(link)), chromedp.WaitVisible(chromedp.CSS("#distribution")))
	dist := brText(t, ctx, "#distribution")
	if !strings.Contains(dist, "ACTION") || brText(t, ctx, "#action-office") != "EUR" {
		t.Errorf("distribution %q, want ACTION EUR", dist)
	}
	if ctl := brText(t, ctx, "#control-number"); ctl == "" {
		t.Error("no control number")
	}
	if got := brText(t, ctx, "#banner-top"); got != "SECRET" {
		t.Errorf("reader's banner %q", got)
	}
	brScreenshot(t, ctx, "cable-view-"+id+".png")
	brNoSideScroll(t, ctx, "the cable view")

	// Search finds it, the matching word marked in the snippet.
	brDo(t, ctx, "search", chromedp.Navigate(n.URL+"/search?q=encirclement"), chromedp.WaitVisible(chromedp.CSS("#hits")))
	if !brEval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('#hits a[href="/cables/%s"]')`, id)) {
		t.Errorf("search hits lack %s", id)
	}
	if got := strings.ToLower(brEval[string](t, ctx, `(document.querySelector('#hits mark') || {}).textContent || ""`)); got != "encirclement" {
		t.Errorf("marked word in the snippet: %q", got)
	}
	brSignOut(t, ctx)
}
