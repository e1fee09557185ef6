package server_test

import (
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/validatetest"
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
			validatetest.Check(t, tt.field, tt.opt.Validate, "New", func() error {
				_, err := server.New(tt.opt)
				return err
			})
		})
	}
}
