package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/server"
)

// Options.Validate names every missing or bad option, and New refuses what
// Validate refuses before building anything (STYLE §9).
func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		opt   server.Options
		field string // "" when valid
	}{
		{"database only", server.Options{DB: &database.DB{}}, ""},
		{"tuned", server.Options{DB: &database.DB{}, WaitTimeout: time.Second, ReadyMaxLag: 5}, ""},
		{"no DB", server.Options{}, "DB"},
		{"negative WaitTimeout", server.Options{DB: &database.DB{}, WaitTimeout: -time.Second}, "WaitTimeout"},
		{"negative ReadyMaxLag", server.Options{DB: &database.DB{}, ReadyMaxLag: -1}, "ReadyMaxLag"},
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
			if _, err := server.New(tt.opt); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("New: got %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
