package eventstore_test

import (
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/validatetest"
)

// Options.Validate names a bad option, and New stops at it (STYLE §9).
func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		opt   eventstore.Options
		field string // "" when valid
	}{
		{"zero values take defaults", eventstore.Options{}, ""},
		{"tuned", eventstore.Options{BatchSize: 10, NoNotify: true}, ""},
		{"negative BatchSize", eventstore.Options{BatchSize: -1}, "BatchSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			validatetest.Check(t, tt.field, tt.opt.Validate, "New", validatetest.Panics(func() { eventstore.New(&database.DB{}, tt.opt) }))
		})
	}
}

// SubscriberOptions.Validate names a bad option, and NewSubscriber stops at
// it (STYLE §9).
func TestSubscriberOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		opt   eventstore.SubscriberOptions
		field string // "" when valid
	}{
		{"zero durations take defaults", eventstore.SubscriberOptions{ConsumerGroup: "g"}, ""},
		{"no group", eventstore.SubscriberOptions{}, "ConsumerGroup"},
		{"negative PollInterval", eventstore.SubscriberOptions{ConsumerGroup: "g", PollInterval: -time.Second}, "PollInterval"},
		{"negative RetryInterval", eventstore.SubscriberOptions{ConsumerGroup: "g", RetryInterval: -1}, "RetryInterval"},
		{"negative AckDeadline", eventstore.SubscriberOptions{ConsumerGroup: "g", AckDeadline: -1}, "AckDeadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			validatetest.Check(t, tt.field, tt.opt.Validate, "NewSubscriber", func() error {
				_, err := eventstore.New(&database.DB{}, eventstore.Options{}).NewSubscriber(tt.opt)
				return err
			})
		})
	}
}
