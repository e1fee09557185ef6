package app

import (
	"context"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

// Aggregates loads aggregates from their streams, for what the API
// decides before a command (authorization) and for answers built from the
// events when the read model is behind (R36). A missing aggregate is the
// zero state (Exists reports false), not an error.
type Aggregates struct{ *core }

// System loads the system aggregate.
func (q Aggregates) System(ctx context.Context) (*system.State, error) {
	var sys system.State
	return &sys, q.loadStream(ctx, systemRef.Kind, systemRef.ID, &sys)
}

// Tenant loads a tenant aggregate.
func (q Aggregates) Tenant(ctx context.Context, tenantID string) (*tenant.State, error) {
	var t tenant.State
	return &t, q.loadStream(ctx, domain.StreamTenant, tenantID, &t)
}

// User loads a user aggregate.
func (q Aggregates) User(ctx context.Context, userID string) (*user.State, error) {
	var u user.State
	return &u, q.loadStream(ctx, domain.StreamUser, userID, &u)
}

// Group loads a group aggregate.
func (q Aggregates) Group(ctx context.Context, groupID string) (*group.State, error) {
	var g group.State
	return &g, q.loadStream(ctx, domain.StreamGroup, groupID, &g)
}

// Mailbox loads a mailbox aggregate.
func (q Aggregates) Mailbox(ctx context.Context, mailboxID string) (*mailbox.State, error) {
	var mb mailbox.State
	return &mb, q.loadStream(ctx, domain.StreamMailbox, mailboxID, &mb)
}

// Token loads a token aggregate.
func (q Aggregates) Token(ctx context.Context, tokenID string) (*token.State, error) {
	var t token.State
	return &t, q.loadStream(ctx, domain.StreamToken, tokenID, &t)
}

// Message loads a message aggregate and when it was queued (the zero
// time for an unknown message).
func (q Aggregates) Message(ctx context.Context, messageID string) (*message.State, time.Time, error) {
	var m message.State
	recs, err := q.loadRecords(ctx, MessageStreamID(messageID), &m)
	if err != nil || len(recs) == 0 {
		return &m, time.Time{}, err
	}
	return &m, recs[0].RecordedAt, nil
}
