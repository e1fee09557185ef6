package saga

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// App is what the saga needs of the command side, declared here where it
// is consumed; app.SagaPort implements it (app.NewSagaPort). The saga
// decides and appends itself (steps.go); through App it only reads.
type App interface {
	// LoadMessage returns the events of a message's stream, oldest first
	// (none for an unknown message).
	LoadMessage(ctx context.Context, id string) ([]eventstore.Record, error)
	// MessageFacts gathers what resolving a user's message reads (R1,
	// R2, R17) for the address keys of its From and Reply-To.
	MessageFacts(ctx context.Context, userID, tenantID string, keys []string) (message.Facts, error)
	// TargetFacts reads the server a test mail targets (R6).
	TargetFacts(ctx context.Context, tenantID string, target message.Target) (message.Facts, error)
	// MessageContent decrypts a message's content (R25); its errors wrap
	// content.ErrPurged and content.ErrUndecryptable.
	MessageContent(ctx context.Context, id string) (message.Content, error)
	// RevealSecret decrypts a secret of the server settings kept in the
	// stream of owner (the system, a tenant or a mailbox).
	RevealSecret(owner domain.StreamRef, field string, sec domain.Secret) (string, error)
	// PurgeExpired erases the content of finished messages past their
	// retention (R25), at most limit, and returns how many.
	PurgeExpired(ctx context.Context, limit int) (int, error)
	// RetryPolicy is the schedule of delivery attempts (R23).
	RetryPolicy() message.RetryPolicy
	// ConflictRounds bounds the load–decide–append rounds of a step on
	// conflict (app.Config.MaxAttempts, as for every command).
	ConflictRounds() int
	// BeforeAttemptAppend is a test hook: it runs after an attempt was
	// decided and before it is appended.
	BeforeAttemptAppend(ctx context.Context, messageID string)
	// WithActor returns ctx acting as principal for a message's tenant
	// and correlation, for the log lines of an attempt.
	WithActor(ctx context.Context, principal, tenantID, correlationID string) context.Context
}
