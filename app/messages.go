package app

import (
	"context"
	"time"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/projections"
)

// Messages is the message area (R6, R7, R17, R22–R25): the API's commands
// on messages, each run under its SPEC name through the decorator, like
// every area's. The work is in
//
//   - message_send.go: queueing a message, a test mail or a support
//     request (the domain's deciders message.Queue, QueueTest,
//     QueueSupport decide; Messages gathers the facts and appends);
//   - message_facts.go: the facts a resolution reads (R1, R2, R17), for
//     queueing and for the saga's re-checks;
//   - message_ops.go: the operator's commands on a queued message (cancel,
//     retry now, purge) and the retention sweep (R25).
//
// The send saga reaches the area through SagaPort (saga_port.go); a
// message's aggregate is read through Aggregates.Message.
type Messages struct {
	*core
	// content is the content store of message bodies (R25).
	content *content.Store
	// reader answers the read-model questions the area asks (global
	// mailboxes by address, finished messages): the tables stay their
	// projection's.
	reader *projections.Reader

	retention time.Duration
	version   string
	retry     message.RetryPolicy
	onQueued  func(ctx context.Context, messageID string)
	// beforeAttemptAppend is Config.BeforeAttemptAppend, for the saga.
	beforeAttemptAppend func(ctx context.Context, messageID string)
}

// newMessages is the message area of c on the core, with Config's
// defaults.
func newMessages(cc *core, c Config) Messages {
	m := Messages{core: cc, content: c.Content, reader: c.Reader, retention: c.MessageRetention, version: c.Version,
		retry: c.Retry, onQueued: c.OnQueued, beforeAttemptAppend: c.BeforeAttemptAppend}
	if m.retention == 0 {
		m.retention = 30 * 24 * time.Hour
	}
	if m.version == "" {
		m.version = "(development build)"
	}
	if m.retry.MaxAttempts == 0 {
		m.retry = message.DefaultRetryPolicy
	}
	return m
}

// MessageStreamID is the event-store stream of a message.
func MessageStreamID(id string) string { return "message-" + id }

// ErrContentPurged says a message's content was erased (R25).
var ErrContentPurged = content.ErrPurged

// ErrUndecryptable says stored ciphertext does not decrypt with the key
// ring (a key was removed from ABSENDER_SECRET_KEY, or the data was
// altered): retrying will not help.
var ErrUndecryptable = content.ErrUndecryptable

// Send queues a message of the request's user after the checks of R17,
// in its order (sendMessage; message_send.go). It returns the message id;
// a refused message leaves nothing behind.
func (s Messages) Send(ctx context.Context, d message.Draft, idempotencyKey string) (string, Result, error) {
	return commandWithID(ctx, s.core, "sendMessage", func(ctx context.Context) (string, Result, error) {
		return s.send(ctx, d, idempotencyKey)
	})
}

// SendTestMail queues a test mail (sendTestMail; R6) through the system
// server (tenantID and mailboxID empty), a tenant's server (tenantID) or
// one of its authenticated mailboxes (mailboxID). Permission is the
// caller's to check.
func (s Messages) SendTestMail(ctx context.Context, tenantID, mailboxID, to string) (string, Result, error) {
	return commandWithID(ctx, s.core, "sendTestMail", func(ctx context.Context) (string, Result, error) {
		return s.sendTestMail(ctx, tenantID, mailboxID, to)
	})
}

// SubmitSupportRequest sends a user's support request
// (submitSupportRequest; R7).
func (s Messages) SubmitSupportRequest(ctx context.Context, subject, body string) (string, Result, error) {
	return commandWithID(ctx, s.core, "submitSupportRequest", func(ctx context.Context) (string, Result, error) {
		return s.submitSupportRequest(ctx, subject, body)
	})
}

// PurgeContent erases a message's content now (purgeMessageContent;
// R25); the history of what was sent to whom stays. Permission is the
// caller's to check.
func (s Messages) PurgeContent(ctx context.Context, id, reason string) (Result, error) {
	return command(ctx, s.core, "purgeMessageContent", func(ctx context.Context) (Result, error) {
		return s.purgeContent(ctx, id, reason)
	})
}

// Cancel cancels a QUEUED or RETRYING message (cancelMessage; R23):
// CANCELLED, final, nothing more is sent; another status is CONFLICT.
// Permission is the caller's to check.
func (s Messages) Cancel(ctx context.Context, id string) (Result, error) {
	return command(ctx, s.core, "cancelMessage", func(ctx context.Context) (Result, error) {
		return s.cancel(ctx, id)
	})
}

// RetryNow makes a RETRYING message due now (retryMessageNow; R23); its
// attempt counts like any other, another status is CONFLICT. Permission
// is the caller's to check.
func (s Messages) RetryNow(ctx context.Context, id string) (Result, error) {
	return command(ctx, s.core, "retryMessageNow", func(ctx context.Context) (Result, error) {
		return s.retryNow(ctx, id)
	})
}
