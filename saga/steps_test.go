package saga

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// fakeApp answers the saga's steps with the errors a test gives it.
type fakeApp struct {
	recs       []eventstore.Record
	factsErr   error
	contentErr error
	secretErr  error
}

func (f fakeApp) LoadMessage(context.Context, string) ([]eventstore.Record, error) {
	return f.recs, nil
}
func (f fakeApp) MessageFacts(context.Context, string, string, []string) (message.Facts, error) {
	return message.Facts{}, f.factsErr
}
func (f fakeApp) TargetFacts(context.Context, string, message.Target) (message.Facts, error) {
	return message.Facts{}, f.factsErr
}
func (f fakeApp) MessageContent(context.Context, string) (message.Content, error) {
	return message.Content{}, f.contentErr
}
func (f fakeApp) RevealSecret(domain.StreamRef, string, domain.Secret) (string, error) {
	return "", f.secretErr
}
func (fakeApp) PurgeExpired(context.Context, int) (int, error)                { return 0, nil }
func (fakeApp) RetryPolicy() message.RetryPolicy                              { return message.DefaultRetryPolicy }
func (fakeApp) ConflictRounds() int                                           { return 10 }
func (fakeApp) BeforeAttemptAppend(context.Context, string)                   {}
func (fakeApp) WithActor(ctx context.Context, _, _, _ string) context.Context { return ctx }

func stepSaga(a fakeApp) *Saga {
	return &Saga{opt: Options{App: a, Now: time.Now, AttemptTimeout: message.AttemptTimeout}}
}

// Issue 12: the saga's steps keep their errors as values, so errors.Is
// finds the cause through them, and turn them into the recorded reason
// only where the event is built (reasonOf): the reasons stay those of
// before.
func TestStepsKeepTheirErrors(t *testing.T) {
	errFacts := errors.New("directory unreadable")
	errKey := errors.New("no key of the ring opens it")
	queued := eventstore.Record{StreamID: "message-m1", Version: 1, Event: message.MessageQueued{MessageID: "m1", TenantID: "t1",
		UserID: "u1", Kind: message.KindMessage, From: message.Mailbox{Address: "info@celanio.example"},
		To: []message.Mailbox{{Address: "kunde@example.org"}}, Subject: "Hallo"}}
	tests := []struct {
		name     string
		step     func() error
		sentinel error
		reason   string // "" when the step does not fail the message
	}{
		{"purged content (R25)", func() error {
			_, err := stepSaga(fakeApp{contentErr: fmt.Errorf("content: m1: %w", content.ErrPurged)}).openContent(t.Context(), "m1")
			return err
		}, content.ErrPurged, "the message content was purged before it could be sent (R25)"},
		{"undecryptable content", func() error {
			_, err := stepSaga(fakeApp{contentErr: fmt.Errorf("content: open m1: %w", content.ErrUndecryptable)}).openContent(t.Context(), "m1")
			return err
		}, content.ErrUndecryptable, "the message content cannot be decrypted with the key ring"},
		{"undecryptable password", func() error {
			d := &Delivery{Queued: message.MessageQueued{TenantID: "t1"}, Resolution: message.Resolution{Transport: domain.TransportTenantServer}}
			return stepSaga(fakeApp{secretErr: fmt.Errorf("keyring: %w", errKey)}).reveal(d, message.Facts{TenantSettings: &domain.ServerSettings{}})
		}, errKey, "the password of tenant-t1 cannot be decrypted with the key ring"},
		{"facts unreadable while resolving", func() error {
			_, _, err := stepSaga(fakeApp{recs: []eventstore.Record{queued}, factsErr: fmt.Errorf("load: %w", errFacts)}).resolveQueued(t.Context(), nil, "m1")
			return err
		}, errFacts, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.step()
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("got %v, want an error that is %v", err, tt.sentinel)
			}
			var f *failure
			if failed := errors.As(err, &f); failed != (tt.reason != "") {
				t.Fatalf("got a failure %v, want one: %v", failed, tt.reason != "")
			}
			if tt.reason != "" && reasonOf(err) != tt.reason {
				t.Errorf("reason: got %q, want %q", reasonOf(err), tt.reason)
			}
		})
	}
}
