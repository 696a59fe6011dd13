package cable_test

import (
	"slices"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

func TestUserHelpers(t *testing.T) {
	u := &cable.User{Offices: []string{"EUR", "EUR/X"}, Captions: []cable.Caption{cable.EXDIS}, Roles: []cable.UserRole{cable.RoleOperator}}
	if !u.InOffice("EUR/X") || u.InOffice("eur") || u.InOffice("S") {
		t.Error("InOffice is wrong")
	}
	if !u.HoldsCaption(cable.EXDIS) || u.HoldsCaption(cable.NODIS) {
		t.Error("HoldsCaption is wrong")
	}
	if !u.HasRole(cable.RoleOperator) || u.HasRole(cable.RoleDrafter) {
		t.Error("HasRole is wrong")
	}
}

func TestUserValidate(t *testing.T) {
	dir := testDirectory(t)
	good := &cable.User{Name: "g.kennan-2_x", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.TopSecret,
		Captions: cable.AllCaptions(), Roles: []cable.UserRole{cable.RoleDrafter, cable.RoleOperator}}
	if err := good.Validate(dir); err != nil {
		t.Fatalf("valid user refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(u *cable.User)
		want   []string
	}{
		{"no name", func(u *cable.User) { u.Name = "" }, []string{"name"}},
		{"64 characters", func(u *cable.User) { u.Name = strings.Repeat("a", 64) }, nil},
		{"65 characters", func(u *cable.User) { u.Name = strings.Repeat("a", 65) }, []string{"name"}},
		{"space in name", func(u *cable.User) { u.Name = "george kennan" }, []string{"name"}},
		{"letter outside ASCII", func(u *cable.User) { u.Name = "kénnan" }, []string{"name"}},
		{"unknown station", func(u *cable.User) { u.Station = "KABUL" }, []string{"station"}},
		{"no office", func(u *cable.User) { u.Offices = nil }, []string{"offices"}},
		{"office of another station", func(u *cable.User) { u.Offices = []string{"POL", "EUR"} }, []string{"offices"}},
		{"no clearance", func(u *cable.User) { u.Clearance = 0 }, []string{"clearance"}},
		{"unknown caption", func(u *cable.User) { u.Captions = []cable.Caption{"ROGER"} }, []string{"captions"}},
		{"unknown role", func(u *cable.User) { u.Roles = []cable.UserRole{"admin"} }, []string{"roles"}},
		{"everything at once", func(u *cable.User) {
			*u = cable.User{Name: "x y", Station: "KABUL", Captions: []cable.Caption{"A", "B"}, Roles: []cable.UserRole{"root"}}
		}, []string{"name", "station", "offices", "clearance", "captions", "captions", "roles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := *good
			u.Offices = slices.Clone(good.Offices)
			tc.mutate(&u)
			got := problemFields(t, u.Validate(dir))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("problem fields = %q, want %q", got, want)
			}
		})
	}
}

// TestCanRead covers every branch of the access policy.
func TestCanRead(t *testing.T) {
	secret := &cable.Cable{Station: "MOSCOW", Classification: cable.Secret}
	dist := &cable.Distribution{Action: "EUR", Info: []string{"S", "DC/R"}}
	reader := func(station string, clearance cable.Classification, offices ...string) *cable.User {
		return &cable.User{Name: "r", Station: station, Offices: offices, Clearance: clearance}
	}
	for _, tc := range []struct {
		name string
		u    *cable.User
		c    *cable.Cable
		dist *cable.Distribution
		want bool
	}{
		{"no user", nil, secret, dist, false},
		{"no cable", reader("STATE", cable.TopSecret, "EUR"), nil, dist, false},
		{"action office", reader("STATE", cable.Secret, "EUR"), secret, dist, true},
		{"info office", reader("STATE", cable.Secret, "DC/R"), secret, dist, true},
		{"one of several offices", reader("STATE", cable.Secret, "NEA", "S"), secret, dist, true},
		{"another office", reader("STATE", cable.TopSecret, "NEA"), secret, dist, false},
		{"office in another case", reader("STATE", cable.TopSecret, "eur"), secret, dist, false},
		{"no distribution", reader("STATE", cable.TopSecret, "EUR"), secret, nil, false},
		{"no office", reader("STATE", cable.TopSecret), secret, dist, false},
		{"clearance below", reader("STATE", cable.Confidential, "EUR"), secret, dist, false},
		{"clearance above", reader("STATE", cable.TopSecret, "EUR"), secret, dist, true},
		{"no clearance, unclassified cable", reader("MOSCOW", 0, "POL"), &cable.Cable{Station: "MOSCOW", Classification: cable.Unclassified}, nil, false},
		{"unclassified reader, unclassified cable", reader("MOSCOW", cable.Unclassified), &cable.Cable{Station: "MOSCOW", Classification: cable.Unclassified}, nil, true},
		{"own station without distribution", reader("MOSCOW", cable.Secret, "POL"), secret, nil, true},
		{"own station, clearance below", reader("MOSCOW", cable.Confidential, "POL"), secret, nil, false},
		{"reader at a third station", reader("LONDON", cable.Secret, "POL"), secret, &cable.Distribution{Action: "EUR"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cable.CanRead(tc.u, tc.c, tc.dist); got != tc.want {
				t.Fatalf("CanRead = %v, want %v", got, tc.want)
			}
		})
	}

	// Each caption is a key: without it neither the drafting station nor
	// the distributed office reads the cable.
	for _, k := range cable.AllCaptions() {
		c := &cable.Cable{Station: "MOSCOW", Classification: cable.Secret, Captions: []cable.Caption{k}}
		for _, u := range []*cable.User{reader("MOSCOW", cable.TopSecret, "POL"), reader("STATE", cable.TopSecret, "EUR")} {
			if cable.CanRead(u, c, dist) {
				t.Errorf("%s at %s reads a %s cable without the caption", u.Name, u.Station, k)
			}
			u.Captions = []cable.Caption{k}
			if !cable.CanRead(u, c, dist) {
				t.Errorf("%s at %s holding %s may not read the %s cable", u.Name, u.Station, k, k)
			}
			others := slices.DeleteFunc(cable.AllCaptions(), func(x cable.Caption) bool { return x == k })
			u.Captions = others
			if cable.CanRead(u, c, dist) {
				t.Errorf("holding every caption but %s reads the %s cable", k, k)
			}
		}
	}
	both := &cable.Cable{Station: "MOSCOW", Classification: cable.TopSecret, Captions: []cable.Caption{cable.NODIS, cable.STADIS}}
	u := reader("STATE", cable.TopSecret, "EUR")
	u.Captions = []cable.Caption{cable.NODIS}
	if cable.CanRead(u, both, dist) {
		t.Error("one caption of two suffices")
	}
	u.Captions = append(u.Captions, cable.STADIS)
	if !cable.CanRead(u, both, dist) {
		t.Error("both captions do not suffice")
	}
}
