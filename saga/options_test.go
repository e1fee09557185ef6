package saga_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/validatetest"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/transport"
)

type noSender struct{}

func (noSender) Send(context.Context, domain.ServerSettings, transport.Credentials, transport.Message) (transport.Result, error) {
	return transport.Result{}, nil
}

// Options.Validate names every missing or bad option, and New refuses what
// Validate refuses (STYLE §9: a bad setting fails at construction).
func TestOptionsValidate(t *testing.T) {
	valid := func() saga.Options {
		return saga.Options{App: app.NewSagaPort(&app.App{}), Store: &eventstore.Store{}, DB: &database.DB{}, Sender: noSender{}}
	}
	tests := []struct {
		name  string
		edit  func(*saga.Options)
		field string // "" when valid
	}{
		{"required only", func(*saga.Options) {}, ""},
		{"zero values take defaults", func(o *saga.Options) { o.Workers, o.Poll, o.Sweep, o.AttemptTimeout = 0, 0, 0, 0 }, ""},
		{"tuned", func(o *saga.Options) {
			o.Workers, o.Poll, o.Sweep, o.AttemptTimeout = 2, time.Second, time.Minute, time.Minute
		}, ""},
		{"no App", func(o *saga.Options) { o.App = nil }, "App"},
		{"no Store", func(o *saga.Options) { o.Store = nil }, "Store"},
		{"no DB", func(o *saga.Options) { o.DB = nil }, "DB"},
		{"no Sender", func(o *saga.Options) { o.Sender = nil }, "Sender"},
		{"negative Workers", func(o *saga.Options) { o.Workers = -1 }, "Workers"},
		{"negative Poll", func(o *saga.Options) { o.Poll = -time.Second }, "Poll"},
		{"negative Sweep", func(o *saga.Options) { o.Sweep = -time.Second }, "Sweep"},
		{"negative AttemptTimeout", func(o *saga.Options) { o.AttemptTimeout = -time.Second }, "AttemptTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.edit(&o)
			validatetest.Check(t, tt.field, o.Validate, "New", func() error {
				_, err := saga.New(o)
				return err
			})
		})
	}
}

// Validate reports every problem at once, not only the first.
func TestOptionsValidateJoinsProblems(t *testing.T) {
	err := saga.Options{Workers: -1}.Validate()
	for _, field := range []string{"App", "Store", "DB", "Sender", "Workers"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("got %v, want it to name %s", err, field)
		}
	}
}
