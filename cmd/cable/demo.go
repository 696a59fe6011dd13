package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/seal"
)

// demoPasswordsFile keeps the demo users' passwords so a demo node can be
// restarted and signed into again. Only --demo writes it.
const demoPasswordsFile = "demo-users.txt"

// demoUser is a demo user before it is stored.
type demoUser struct {
	cable.User
	Note string
}

func demoUsers() []demoUser {
	drafter := func(station string) demoUser {
		return demoUser{User: cable.User{Name: "drafter." + strings.ToLower(station), Station: station, Offices: []string{"POL"},
			Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}},
			Note: "drafts and releases at " + station}
	}
	reader := func(office string) demoUser {
		name := "reader." + strings.ToLower(strings.ReplaceAll(office, "/", ""))
		return demoUser{User: cable.User{Name: name, Station: "STATE", Offices: []string{office}, Clearance: cable.Secret},
			Note: "reads the " + office + " inbox at STATE"}
	}
	// The ambassador's drafter at PARIS carries the NODIS traffic of the demo.
	paris := drafter("PARIS")
	paris.Captions = []cable.Caption{cable.NODIS, cable.EXDIS}
	paris.Note += " (holds NODIS, EXDIS)"
	st := drafter("STATE")
	st.Offices = []string{"EUR"}
	st.Note = "drafts and releases at STATE (EUR)"
	users := []demoUser{drafter("MOSCOW"), drafter("LONDON"), paris, drafter("ANKARA"), st,
		reader("EUR"), reader("NEA"), reader("ARA"), reader("INR"), reader("DC/R"), reader("S"),
		{User: cable.User{Name: "nodis.s", Station: "STATE", Offices: []string{"S", "SS"}, Clearance: cable.TopSecret,
			Captions: []cable.Caption{cable.NODIS, cable.EXDIS}}, Note: "TOP SECRET with NODIS and EXDIS, S and SS"},
		{User: cable.User{Name: "archivist", Station: "STATE", Offices: []string{"DC/R"}, Clearance: cable.TopSecret,
			Roles: []cable.UserRole{cable.RoleArchivist}}, Note: "files historical records (DC/R)"},
		{User: cable.User{Name: "operator", Station: "STATE", Offices: []string{"DC/R"}, Clearance: cable.Confidential,
			Roles: []cable.UserRole{cable.RoleOperator}}, Note: "message centre operator"},
	}
	return users
}

// seedDemoUsers creates the demo users of the hosted stations that do not
// exist yet and returns every demo user's password.
func seedDemoUsers(ctx context.Context, d dataDir, rec cable.Records, dir *cable.Directory, stations []string) (map[string]string, error) {
	path := filepath.Join(d.path, demoPasswordsFile)
	passwords, err := readDemoPasswords(path)
	if err != nil {
		return nil, err
	}
	changed := false
	for _, du := range demoUsers() {
		if !slices.Contains(stations, du.Station) {
			continue
		}
		if _, _, err := rec.UserByName(ctx, du.Name); err == nil {
			continue
		} else if cable.ErrorCode(err) != cable.ENOTFOUND {
			return nil, err
		}
		pw := passwords[du.Name]
		if pw == "" {
			pw = randomPassword()
		}
		u := du.User
		if err := centre.AddUser(ctx, rec, dir, &u, pw); err != nil {
			return nil, fmt.Errorf("%s: %w", du.Name, err)
		}
		passwords[du.Name] = pw
		changed = true
	}
	if changed {
		var b strings.Builder
		b.WriteString("# Demo users' passwords, written by cable serve --demo.\n")
		names := make([]string, 0, len(passwords))
		for n := range passwords {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s\n", n, passwords[n])
		}
		if err := writeFileAtomic(path, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
	}
	return passwords, nil
}

func readDemoPasswords(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, pw, ok := strings.Cut(line, " "); ok {
			out[name] = strings.TrimSpace(pw)
		}
	}
	return out, sc.Err()
}

// randomPassword returns 16 characters from an alphabet without look-alikes.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func printDemoUsers(w io.Writer, n *node) {
	fmt.Fprintf(w, "\nDemo users (sign in at %s/signin):\n", n.URL)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tPASSWORD\tSTATION\tOFFICES\tCLEARANCE\tROLE")
	for _, du := range demoUsers() {
		pw, ok := n.DemoPasswords[du.Name]
		if !ok {
			continue
		}
		captions := ""
		for _, c := range du.Captions {
			captions += " +" + string(c)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s%s\t%s\n", du.Name, pw, du.Station, strings.Join(du.Offices, ","), du.Clearance, captions, du.Note)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// seedDemoTraffic releases a little realistic traffic the first time a
// demo node starts, through the same release path as everyone else.
func seedDemoTraffic(ctx context.Context, n *node) error {
	events, err := n.records.Events(ctx, cable.EventFilter{Kind: cable.EventReleased, Limit: 1})
	if err != nil || len(events) > 0 {
		return err
	}
	for _, draft := range demoTraffic(time.Now().UTC()) {
		if !n.centre.Hosts(draft.Station) {
			continue
		}
		// A demo node running alone trusts only the stations it has been
		// told of: leave out the addressees it cannot seal to.
		to := draft.To[:0]
		for _, a := range draft.To {
			if n.sealer.CanSeal(draft.Station, a.Station) == nil {
				to = append(to, a)
			}
		}
		if draft.To = to; !slices.ContainsFunc(to, func(a cable.Addressee) bool { return a.Role == cable.RoleAction }) {
			continue
		}
		name := "drafter." + strings.ToLower(draft.Station)
		u, _, err := n.records.UserByName(ctx, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := n.centre.Release(ctx, u, draft); err != nil {
			return fmt.Errorf("release demo cable %q: %w", draft.Subject, err)
		}
	}
	return nil
}

// demoKeys makes keys for every hosted station that has none and has the
// hosted stations trust one another, as their operators would. Stations
// on other nodes are trusted only by an operator's `cable station trust`.
func demoKeys(data string, stations []string) error {
	rings := make([]*seal.Keyring, len(stations))
	for i, s := range stations {
		k, err := seal.Open(keysDir(data, s))
		if cable.ErrorCode(err) == cable.ENOTFOUND {
			k, err = seal.Init(keysDir(data, s), s)
		}
		if err != nil {
			return fmt.Errorf("station %s: %w", s, err)
		}
		rings[i] = k
	}
	for _, k := range rings {
		for _, other := range rings {
			if other == k {
				continue
			}
			for _, id := range other.Identities() {
				if _, err := k.Trust(id.Marshal()); err != nil {
					return fmt.Errorf("%s trusting %s: %w", k.Station(), other.Station(), err)
				}
			}
		}
	}
	return nil
}
