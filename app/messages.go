package app

import (
	"context"
	"time"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/projections"
)

// Service is the message area, not split into handlers yet: sending
// (message.go), the operator's message commands (message_state.go), the
// content (content.go) and the saga's steps (saga.go). The API runs its
// message commands through Messages, which gives them the decorator.
type Service struct {
	*core
	content *content.Store
	// reader answers the read-model questions commands ask (global
	// mailboxes by address, finished messages): the tables stay their
	// projection's.
	reader *projections.Reader

	retention time.Duration
	version   string
	retry     message.RetryPolicy
	onQueued  func(ctx context.Context, messageID string)
	// beforeAttemptAppend is Config.BeforeAttemptAppend.
	beforeAttemptAppend func(ctx context.Context, messageID string)
}

// RevealSecret decrypts a stored secret of a stream, for the transports
// that use it (only in memory, just before use).
func (s *Service) RevealSecret(streamID, field string, sec domain.Secret) (string, error) {
	return s.revealSecret(streamID, field, sec)
}

// Messages are the API's commands on messages, run through the decorator;
// the work is Service's.
type Messages struct{ svc *Service }

// Send queues a message of the request's user (sendMessage;
// Service.SendMessage).
func (m Messages) Send(ctx context.Context, d message.Draft, idempotencyKey string) (string, Result, error) {
	return commandWithID(ctx, m.svc.core, "sendMessage", func(ctx context.Context) (string, Result, error) {
		return m.svc.SendMessage(ctx, d, idempotencyKey)
	})
}

// SendTestMail queues a test mail (sendTestMail; R6;
// Service.SendTestMail).
func (m Messages) SendTestMail(ctx context.Context, tenantID, mailboxID, to string) (string, Result, error) {
	return commandWithID(ctx, m.svc.core, "sendTestMail", func(ctx context.Context) (string, Result, error) {
		return m.svc.SendTestMail(ctx, tenantID, mailboxID, to)
	})
}

// SubmitSupportRequest sends a user's support request
// (submitSupportRequest; R7; Service.SubmitSupportRequest).
func (m Messages) SubmitSupportRequest(ctx context.Context, subject, body string) (string, Result, error) {
	return commandWithID(ctx, m.svc.core, "submitSupportRequest", func(ctx context.Context) (string, Result, error) {
		return m.svc.SubmitSupportRequest(ctx, subject, body)
	})
}

// PurgeContent erases a message's content now (purgeMessageContent; R25;
// Service.PurgeMessageContent).
func (m Messages) PurgeContent(ctx context.Context, id, reason string) (Result, error) {
	return command(ctx, m.svc.core, "purgeMessageContent", func(ctx context.Context) (Result, error) {
		return m.svc.PurgeMessageContent(ctx, id, reason)
	})
}

// Cancel cancels a QUEUED or RETRYING message (cancelMessage; R23;
// Service.CancelMessage).
func (m Messages) Cancel(ctx context.Context, id string) (Result, error) {
	return command(ctx, m.svc.core, "cancelMessage", func(ctx context.Context) (Result, error) {
		return m.svc.CancelMessage(ctx, id)
	})
}

// RetryNow makes a RETRYING message due now (retryMessageNow; R23;
// Service.RetryMessageNow).
func (m Messages) RetryNow(ctx context.Context, id string) (Result, error) {
	return command(ctx, m.svc.core, "retryMessageNow", func(ctx context.Context) (Result, error) {
		return m.svc.RetryMessageNow(ctx, id)
	})
}
