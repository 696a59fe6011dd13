package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	cable "github.com/cable-archive/cable"
)

// readInput reads the named file, or standard input for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, 64<<20))
	}
	return os.ReadFile(name)
}

// decodeCable reads a cable in JSON or the text form. It says whether the
// input is a draft (no serial or date-time group yet).
func decodeCable(b []byte, form cable.TextForm) (*cable.Cable, bool, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var c cable.Cable
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, false, cable.Invalid("invalid JSON", []cable.Problem{{Field: "body", Message: err.Error()}})
		}
		return &c, c.Serial == 0 && c.DTG.IsZero(), nil
	}
	c, err := form.Parse(b, false)
	if err == nil {
		return c, false, nil
	}
	if d, derr := form.Parse(b, true); derr == nil {
		return d, true, nil
	}
	return nil, false, err
}

func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "check [--data DIR] FILE|-", stdout, stderr)
	data := fs.String("data", "", "data `directory` whose station directory to check against (default: the built-in directory)")
	asJSON := fs.Bool("json", false, "print {\"ok\": ..., \"errors\": [...]} on stdout")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: cable check [--data DIR] FILE|-")
		return exitError{2}
	}
	dir, err := dataDir{path: *data}.directory()
	if err != nil {
		return err
	}
	b, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	form := newForm(dir)
	c, draft, err := decodeCable(b, form)
	if err == nil {
		cable.Normalize(c)
		err = cable.Validate(c, cable.ValidateOptions{Directory: dir, Draft: draft, At: timeNow()})
	}
	problems := cable.ErrorProblems(err)
	if err != nil && len(problems) == 0 {
		problems = []cable.Problem{{Message: cable.ErrorMessage(err)}}
	}
	if *asJSON {
		if problems == nil {
			problems = []cable.Problem{}
		}
		json.NewEncoder(stdout).Encode(map[string]any{"ok": err == nil, "errors": problems})
	} else {
		for _, p := range problems {
			fmt.Fprintln(stderr, p.String())
		}
		if err == nil {
			kind := "cable"
			if draft {
				kind = "draft"
			}
			fmt.Fprintf(stdout, "ok: valid %s\n", kind)
		}
	}
	if err != nil {
		return exitError{1}
	}
	return nil
}

func runRender(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("render", "render --to text|json [--data DIR] FILE|-", stdout, stderr)
	to := fs.String("to", "text", "output `form`: text (the canonical text form) or json")
	data := fs.String("data", "", "data `directory` whose station directory to use (default: the built-in directory)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*to != "text" && *to != "json") {
		fmt.Fprintln(stderr, "usage: cable render --to text|json [--data DIR] FILE|-")
		return exitError{2}
	}
	dir, err := dataDir{path: *data}.directory()
	if err != nil {
		return err
	}
	b, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	form := newForm(dir)
	c, draft, err := decodeCable(b, form)
	if err != nil {
		return err
	}
	cable.Normalize(c)
	if err := cable.Validate(c, cable.ValidateOptions{Directory: dir, Draft: draft, At: timeNow()}); err != nil {
		return err
	}
	if *to == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	out, err := form.Render(c)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
