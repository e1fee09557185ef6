package graph

import (
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/history"
	"github.com/absender/absender/internal/validatetest"
	"github.com/absender/absender/projections"
)

// Deps.Validate names every missing or bad dependency, and Handler stops at
// it at construction, not at the first request (STYLE §9).
func TestDepsValidate(t *testing.T) {
	valid := func() Deps {
		return Deps{App: &app.App{}, Reader: &projections.Reader{}, Runner: &projections.Runner{},
			Store: &eventstore.Store{}, History: &history.Service{}}
	}
	tests := []struct {
		name  string
		edit  func(*Deps)
		field string // "" when valid
	}{
		{"required only", func(*Deps) {}, ""},
		{"tuned", func(d *Deps) { d.WaitTimeout, d.CORSOrigins = time.Second, []string{"*"} }, ""},
		{"no App", func(d *Deps) { d.App = nil }, "App"},
		{"no Reader", func(d *Deps) { d.Reader = nil }, "Reader"},
		{"no Runner", func(d *Deps) { d.Runner = nil }, "Runner"},
		{"no Store", func(d *Deps) { d.Store = nil }, "Store"},
		{"no History", func(d *Deps) { d.History = nil }, "History"},
		{"negative WaitTimeout", func(d *Deps) { d.WaitTimeout = -time.Second }, "WaitTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.edit(&d)
			validatetest.Check(t, tt.field, d.Validate, "Handler", validatetest.Panics(func() { Handler(d) }))
		})
	}
}
