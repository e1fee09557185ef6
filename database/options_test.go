package database_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/absender/absender/database"
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
			err := tt.opt.Validate()
			if tt.field == "" {
				if err != nil {
					t.Errorf("Validate: got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate: got %v, want an error naming %s", err, tt.field)
			}
			db, err := database.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), tt.opt)
			if err == nil {
				db.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Open: got %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
