package database_test

import (
	"path/filepath"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/validatetest"
)

// Options.Validate names a bad option, and Open refuses it before opening
// anything (STYLE §9).
func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		opt   database.Options
		field string // "" when valid
	}{
		{"zero values take defaults", database.Options{}, ""},
		{"tuned", database.Options{MaxConns: 4, MustExist: true}, ""},
		{"negative MaxConns", database.Options{MaxConns: -1}, "MaxConns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			validatetest.Check(t, tt.field, tt.opt.Validate, "Open", func() error {
				db, err := database.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), tt.opt)
				if err == nil {
					db.Close()
				}
				return err
			})
		})
	}
}
