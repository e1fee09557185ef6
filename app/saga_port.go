package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// SagaPort is what the send saga (package saga, which declares the
// interface saga.App) needs of the command side: the message stream, the
// facts a resolution reads, the content and the secrets, the retention
// sweep and the saga's settings in Config — all of it the message area's
// (Messages). It only translates; the saga's steps live in package saga.
type SagaPort struct{ m Messages }

// NewSagaPort returns the saga's port to the message area of a.
func NewSagaPort(a *App) SagaPort { return SagaPort{a.Commands.Messages} }

// LoadMessage returns the events of a message's stream, oldest first.
func (p SagaPort) LoadMessage(ctx context.Context, id string) ([]eventstore.Record, error) {
	return p.m.store.Load(ctx, MessageStreamID(id))
}

// MessageFacts gathers what resolving a message of a user reads (R1, R2,
// R17), for the address keys of its From and Reply-To.
func (p SagaPort) MessageFacts(ctx context.Context, userID, tenantID string, keys []string) (message.Facts, error) {
	return p.m.messageFacts(ctx, userID, tenantID, keys)
}

// TargetFacts reads the server a test mail targets (R6).
func (p SagaPort) TargetFacts(ctx context.Context, tenantID string, target message.Target) (message.Facts, error) {
	return p.m.targetFacts(ctx, tenantID, target)
}

// MessageContent decrypts a message's content, in memory, for sending
// (content.ErrPurged, content.ErrUndecryptable).
func (p SagaPort) MessageContent(ctx context.Context, id string) (message.Content, error) {
	return p.m.content.Open(ctx, id)
}

// RevealSecret decrypts a secret of the server settings stored in the
// stream of owner (the system, a tenant or a mailbox).
func (p SagaPort) RevealSecret(owner domain.StreamRef, field string, sec domain.Secret) (string, error) {
	return p.m.revealSecret(StreamID(owner), field, sec)
}

// PurgeExpired erases the content of finished messages past their
// retention (R25), at most limit, and returns how many.
func (p SagaPort) PurgeExpired(ctx context.Context, limit int) (int, error) {
	return p.m.purgeExpired(ctx, limit)
}

// RetryPolicy is Config.Retry, with its default.
func (p SagaPort) RetryPolicy() message.RetryPolicy { return p.m.retry }

// ConflictRounds is Config.MaxAttempts, with its default: how many
// load–decide–append rounds a saga step takes on conflict, as a command.
func (p SagaPort) ConflictRounds() int { return p.m.retries }

// BeforeAttemptAppend runs Config.BeforeAttemptAppend, when set.
func (p SagaPort) BeforeAttemptAppend(ctx context.Context, messageID string) {
	if p.m.beforeAttemptAppend != nil {
		p.m.beforeAttemptAppend(ctx, messageID)
	}
}

// WithActor attaches the saga as the request of ctx, so log lines of an
// attempt carry the message's correlation id and tenant.
func (p SagaPort) WithActor(ctx context.Context, principal, tenantID, correlationID string) context.Context {
	return WithRequest(ctx, Request{Actor: domain.Actor{TenantID: tenantID}, Principal: principal, CorrelationID: correlationID})
}
