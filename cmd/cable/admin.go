package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
)

func runUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("user add", "user add --data DIR --name N --station S --office O[,O] --clearance LEVEL [--captions C[,C]] [--roles drafter,operator]", stdout, stderr)
	data := fs.String("data", "./cable-data", "data `directory` of the node")
	pg := fs.String("postgres", "", "records in PostgreSQL at this `DSN`")
	name := fs.String("name", "", "sign-in `name` (letters, digits, . - _)")
	station := fs.String("station", "", "`code` of the user's station")
	offices := fs.String("office", "", "comma-separated `offices` the user belongs to")
	clearance := fs.String("clearance", "", "`level`: UNCLASSIFIED, LOU, CONFIDENTIAL, SECRET or TOP SECRET")
	captions := fs.String("captions", "", "comma-separated `captions` the user holds (NODIS, EXDIS, LIMDIS, STADIS)")
	roles := fs.String("roles", "", "comma-separated `roles`: drafter (may draft and release), operator")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	var ps cable.Problems
	u := &cable.User{Name: *name, Station: strings.ToUpper(*station), Offices: splitList(strings.ToUpper(*offices))}
	if *clearance == "" {
		ps.Add("clearance", "--clearance is required")
	} else if c, err := cable.ParseClassification(*clearance); err != nil {
		ps.Add("clearance", "%s", cable.ErrorMessage(err))
	} else {
		u.Clearance = c
	}
	for _, s := range splitList(*captions) {
		c, err := cable.ParseCaption(s)
		if err != nil {
			ps.Add("captions", "%s", cable.ErrorMessage(err))
			continue
		}
		u.Captions = append(u.Captions, c)
	}
	for _, r := range splitList(strings.ToLower(*roles)) {
		u.Roles = append(u.Roles, cable.UserRole(r))
	}
	d := dataDir{path: *data}
	dir, err := d.directory()
	if err != nil {
		return err
	}
	if err := u.Validate(dir); err != nil {
		ps = append(ps, cable.ErrorProblems(err)...)
	}
	password := ""
	if *pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
		if len(password) < 12 {
			ps.Add("password", "a password has at least 12 characters")
		}
	} else {
		password = randomPassword()
	}
	if err := ps.Err("invalid user"); err != nil {
		return err
	}
	rec, err := d.openRecords(ctx, *pg)
	if err != nil {
		return err
	}
	defer rec.Close()
	if err := centre.AddUser(ctx, rec, dir, u, password); err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"user": u}
		if !*pwStdin {
			out["password"] = password
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "added %s at %s (%s), offices %s\n", u.Name, u.Station, u.Clearance, strings.Join(u.Offices, ","))
	if !*pwStdin {
		fmt.Fprintf(stdout, "password: %s\n", password)
	}
	return nil
}

func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token create", "token create --data DIR --user N", stdout, stderr)
	data := fs.String("data", "./cable-data", "data `directory` of the node")
	pg := fs.String("postgres", "", "records in PostgreSQL at this `DSN`")
	user := fs.String("user", "", "`name` of the user the token acts for")
	asJSON := fs.Bool("json", false, "print {\"token\": ...} instead of the token alone")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *user == "" {
		return cable.Invalid("invalid request", []cable.Problem{{Field: "user", Message: "--user is required"}})
	}
	d := dataDir{path: *data}
	rec, err := d.openRecords(ctx, *pg)
	if err != nil {
		return err
	}
	defer rec.Close()
	token, err := centre.CreateAPIToken(ctx, rec, *user, time.Now)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"token": token})
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "verify --data DIR", stdout, stderr)
	data := fs.String("data", "./cable-data", "data `directory` of the node")
	pg := fs.String("postgres", "", "records in PostgreSQL at this `DSN`")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	rec, err := dataDir{path: *data}.openRecords(ctx, *pg)
	if err != nil {
		return err
	}
	defer rec.Close()
	rep, err := rec.Verify(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if rep.Problems == nil {
			rep.Problems = []string{}
		}
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d cables, %d events checked\n", rep.Cables, rep.Events)
		for _, p := range rep.Problems {
			fmt.Fprintln(stderr, p)
		}
	}
	if len(rep.Problems) > 0 {
		if !*asJSON {
			fmt.Fprintf(stderr, "%d problems: the records or the log have been altered\n", len(rep.Problems))
		}
		return exitError{1}
	}
	return nil
}
