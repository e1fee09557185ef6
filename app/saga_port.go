package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
)

// SagaPort is what the send saga (package saga, which declares the
// interface saga.App) needs of the command side: the message stream, the
// facts a resolution reads, the content and the secrets, the retention
// sweep and the saga's settings in Config. It only translates; the saga's
// steps live in package saga.
type SagaPort struct{ s *Service }

// NewSagaPort returns the saga's port to s.
func NewSagaPort(s *Service) SagaPort { return SagaPort{s} }

// LoadMessage returns the events of a message's stream, oldest first.
func (p SagaPort) LoadMessage(ctx context.Context, id string) ([]eventstore.Record, error) {
	return p.s.store.Load(ctx, MessageStreamID(id))
}

// MessageFacts gathers what resolving a message of a user reads (R1, R2,
// R17), for the address keys of its From and Reply-To.
func (p SagaPort) MessageFacts(ctx context.Context, userID, tenantID string, keys []string) (message.Facts, error) {
	return p.s.messageFacts(ctx, userID, tenantID, keys)
}

// TargetFacts reads the server a test mail targets (R6).
func (p SagaPort) TargetFacts(ctx context.Context, tenantID string, target message.Target) (message.Facts, error) {
	f := message.Facts{Versions: map[string]int64{}, MailboxSettings: map[string]domain.ServerSettings{}}
	switch target.Transport {
	case domain.TransportSystemServer:
		var sys system.State
		recs, err := p.s.loadRecords(ctx, "system", &sys)
		if err != nil {
			return f, err
		}
		f.Versions["system"] = version(recs)
		if st, ok := sys.Settings(); ok {
			f.SystemSettings = &st
		}
	case domain.TransportTenantServer:
		var t tenant.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID})
		recs, err := p.s.loadRecords(ctx, id, &t)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := t.Server(); ok {
			f.TenantSettings = &st
		}
	case domain.TransportMailbox:
		var mb mailbox.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: target.MailboxID})
		recs, err := p.s.loadRecords(ctx, id, &mb)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := mb.Settings(); ok && mb.Exists() {
			f.MailboxSettings[target.MailboxID] = st
		}
	}
	return f, nil
}

// MessageContent decrypts a message's content, in memory, for sending
// (content.ErrPurged, content.ErrUndecryptable).
func (p SagaPort) MessageContent(ctx context.Context, id string) (message.Content, error) {
	return p.s.MessageContent(ctx, id)
}

// RevealSecret decrypts a secret of the server settings stored in the
// stream of owner (the system, a tenant or a mailbox).
func (p SagaPort) RevealSecret(owner domain.StreamRef, field string, sec domain.Secret) (string, error) {
	return p.s.RevealSecret(StreamID(owner), field, sec)
}

// PurgeExpired erases content past its retention (R25).
func (p SagaPort) PurgeExpired(ctx context.Context, limit int) (int, error) {
	return p.s.PurgeExpired(ctx, limit)
}

// RetryPolicy is Config.Retry, with its default.
func (p SagaPort) RetryPolicy() message.RetryPolicy { return p.s.retry }

// BeforeAttemptAppend runs Config.BeforeAttemptAppend, when set.
func (p SagaPort) BeforeAttemptAppend(ctx context.Context, messageID string) {
	if p.s.beforeAttemptAppend != nil {
		p.s.beforeAttemptAppend(ctx, messageID)
	}
}

// WithActor attaches the saga as the request of ctx, so log lines of an
// attempt carry the message's correlation id and tenant.
func (p SagaPort) WithActor(ctx context.Context, principal, tenantID, correlationID string) context.Context {
	return WithRequest(ctx, Request{Actor: domain.Actor{TenantID: tenantID}, Principal: principal, CorrelationID: correlationID})
}
