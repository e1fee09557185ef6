// Package validatetest holds the one assertion of every options table test
// (STYLE §9): a valid value passes Validate, and a bad one is refused by
// Validate and by the constructor, each with an error naming the field.
// Only test files import it.
package validatetest

import (
	"fmt"
	"strings"
	"testing"
)

// Check runs one case: with field "" validate must return nil (build is
// not called); otherwise validate and build must both fail naming field.
// ctor names the constructor in the failure message ("New", "Open").
func Check(t *testing.T, field string, validate func() error, ctor string, build func() error) {
	t.Helper()
	err := validate()
	if field == "" {
		if err != nil {
			t.Errorf("Validate: got %v, want nil", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), field) {
		t.Errorf("Validate: got %v, want an error naming %s", err, field)
	}
	if err := build(); err == nil || !strings.Contains(err.Error(), field) {
		t.Errorf("%s: got %v, want an error naming %s", ctor, err, field)
	}
}

// Panics turns a constructor that panics on bad options (as
// regexp.MustCompile does) into one that returns the panic as an error.
func Panics(build func()) func() error {
	return func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(error); ok {
					err = e
				} else {
					err = fmt.Errorf("%v", r)
				}
			}
		}()
		build()
		return nil
	}
}
