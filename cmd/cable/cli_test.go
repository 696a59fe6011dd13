package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

func TestEverySubcommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--help"}, {"user", "add", "--help"}, {"token", "create", "--help"}, {"check", "--help"},
		{"render", "--help"}, {"import", "--help"}, {"import", "transcript", "--help"}, {"import", "tei", "--help"},
		{"verify", "--help"}, {"bench", "--help"}, {"station", "--help"}, {"station", "init", "--help"}, {"station", "trust", "--help"}, {"--help"},
	} {
		out, _, err := runCLI(t, "", args...)
		if exitCode(err) != 0 || !strings.Contains(out, "Usage") && !strings.Contains(out, "usage") {
			t.Errorf("%v: exit %d, stdout %q", args, exitCode(err), out)
		}
	}
}

const draftText = `IMMEDIATE
FM AMEMBASSY MOSCOW
TO SECSTATE WASHDC
INFO AMEMBASSY LONDON
BT
C O N F I D E N T I A L
E.O. 13526: DECL: 01/01/2030
TAGS: PREL, UR
SUBJECT: MINISTRY CALLS IN AMBASSADORS
CLASSIFIED BY: DAVID HOLLOWAY, POLITICAL COUNSELOR. REASON: 1.4 (D)

1. (C) The Ministry called in the Western ambassadors one by one this morning.

HOLLOWAY
BT
`

func TestCheckAndRender(t *testing.T) {
	out, errOut, err := runCLI(t, draftText, "check", "-")
	if err != nil {
		t.Fatalf("check of a valid draft: %v %s", err, errOut)
	}
	if !strings.Contains(out, "valid draft") {
		t.Errorf("check output %q", out)
	}

	js, errOut, err := runCLI(t, draftText, "render", "--to", "json", "-")
	if err != nil {
		t.Fatalf("render json: %v %s", err, errOut)
	}
	var c cable.Cable
	if err := json.Unmarshal([]byte(js), &c); err != nil || c.Station != "MOSCOW" || c.Subject != "MINISTRY CALLS IN AMBASSADORS" || len(c.To) != 2 {
		t.Fatalf("render json: %v %+v", err, c)
	}
	text, errOut, err := runCLI(t, js, "render", "--to", "text", "-")
	if err != nil {
		t.Fatalf("render text: %v %s", err, errOut)
	}
	if text != draftText {
		t.Errorf("text -> json -> text changed the draft:\n%s", text)
	}

	// An invalid cable: exit 1 and one problem a line on stderr.
	bad := strings.Replace(strings.Replace(draftText, "TAGS: PREL, UR\n", "", 1), "1. (C)", "1. (S)", 1)
	_, errOut, err = runCLI(t, bad, "check", "-")
	if exitCode(err) != 1 {
		t.Fatalf("check of an invalid cable: exit %d", exitCode(err))
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "tags") && !strings.HasPrefix(lines[1], "tags") {
		t.Errorf("problems on stderr:\n%s", errOut)
	}
	out, _, err = runCLI(t, bad, "check", "--json", "-")
	var res struct {
		OK     bool
		Errors []cable.Problem
	}
	if exitCode(err) != 1 || json.Unmarshal([]byte(out), &res) != nil || res.OK || len(res.Errors) < 2 {
		t.Errorf("check --json: %q", out)
	}
}

func TestUserAddAndToken(t *testing.T) {
	data := t.TempDir()
	out, errOut, err := runCLI(t, "", "user", "add", "--data", data, "--name", "ops.clerk", "--station", "STATE",
		"--office", "DC/R,EUR", "--clearance", "SECRET", "--captions", "EXDIS", "--json")
	if err != nil {
		t.Fatalf("user add: %v %s", err, errOut)
	}
	var res struct {
		User     cable.User
		Password string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.User.Name != "ops.clerk" || len(res.Password) < 12 {
		t.Fatalf("user add output %q", out)
	}
	tok, errOut, err := runCLI(t, "", "token", "create", "--data", data, "--user", "ops.clerk")
	if err != nil || len(strings.TrimSpace(tok)) < 40 || strings.Contains(strings.TrimSpace(tok), "\n") {
		t.Fatalf("token create: %v %q %s", err, tok, errOut)
	}
	// Every problem at once, nothing written.
	_, errOut, err = runCLI(t, "", "user", "add", "--data", data, "--name", "bad name", "--station", "NOWHERE",
		"--office", "XX", "--clearance", "VERY SECRET", "--captions", "ZZZ")
	if err == nil {
		t.Fatal("a bad user was added")
	}
	for _, f := range []string{"name", "station", "clearance", "captions"} {
		if !strings.Contains(describe(err), f+":") {
			t.Errorf("no problem named %s in %v", f, describe(err))
		}
	}
	_, _, err = runCLI(t, "", "token", "create", "--data", data, "--user", "nobody")
	if cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Errorf("token for an unknown user: %v", err)
	}
	out, _, err = runCLI(t, "", "verify", "--data", data)
	if err != nil || !strings.Contains(out, "events checked") {
		t.Errorf("verify: %v %q", err, out)
	}
}

// The CLI prints an application error as its message, keeping what wraps
// it, and any other error as it is.
func TestDescribe(t *testing.T) {
	bare := cable.Errorf(cable.EINVALID, "--runs must be at least 1")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{bare, "--runs must be at least 1"},
		{fmt.Errorf("open records: %w", cable.Errorf(cable.ENOTFOUND, "no station MOSCOW")), "open records: no station MOSCOW"},
		{errors.New("disk full"), "disk full"},
	} {
		if got := describe(tc.err); got != tc.want {
			t.Errorf("describe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
