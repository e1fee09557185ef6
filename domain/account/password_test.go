package account_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
)

func TestR27_PasswordRules(t *testing.T) {
	for _, tc := range []struct {
		name, password, local string
		ok                    bool
	}{
		{"R27 three classes, ten characters", "Kx7#pqL2mv", "max", true},
		{"R27 lower, upper, digit", "Blumenwiese7Tal", "max", true},
		{"R27 lower, digit, symbol", "sonne-regen-42", "max", true},
		{"R27 non-ASCII letters count by their case", "Überweisung9ß", "max", true},
		{"R27 nine characters are too few", "Kx7#pqL2m", "max", false},
		{"R27 ten characters counted in code points, not octets", "Äöü#1äöüäö", "max", true},
		{"R27 two classes are too few", "blumenwiese7tal", "max", false},
		{"R27 only lower case", "abcdefghijkl", "max", false},
		{"R27 contains the local part", "Max.mustermann-7", "mustermann", false},
		{"R27 contains the local part in another case", "xxMUSTERMANN1!", "mustermann", false},
		{"R27 common password (list, exact, any case)", "1q2w3e4r5T", "max", false},
		{"R27 common password with decoration", "Password123!", "max", false},
		{"R27 common password with leading decoration", "!!2024Sunshine", "max", false},
		{"R27 a short common stem is not refused", "2024!!Ab99xy", "max", true},
		{"R34 control character refused, not stripped", "Kx7#pqL2mv\x00", "max", false},
		{"R34 line break refused", "Kx7#pqL2mv\n", "max", false},
		{"R34 at most 200 characters", "Aa1!" + strings.Repeat("x", 197), "max", false},
		{"R34 200 characters are fine", "Aa1!" + strings.Repeat("x", 196), "max", true},
		{"R34 invalid UTF-8", "Kx7#pqL2mv\xff", "max", false},
		{"empty", "", "max", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := account.NewPassword(tc.password, tc.local)
			if tc.ok {
				if err != nil || p.IsZero() {
					t.Fatalf("got %v, want the password accepted", err)
				}
				return
			}
			if !errors.Is(err, domain.InvalidInput("password", "")) {
				t.Fatalf("got %v, want INVALID_INPUT naming password", err)
			}
		})
	}
}

func TestR27_PasswordNeverPrints(t *testing.T) {
	p, err := account.NewPassword("Kx7#pqL2mv", "max")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p)} {
		if strings.Contains(s, "Kx7") {
			t.Fatalf("got %q, want the password redacted", s)
		}
	}
}
