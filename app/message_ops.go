package app

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
)

// The operator's commands on a queued message (cancel, retry now, purge)
// and the retention sweep (R23, R25). Each runs through the core's execute
// with the message stream's expected version, so it races the saga's steps
// only through optimistic concurrency: on a conflict it decides again on
// what the saga recorded meanwhile.

// cancel cancels a QUEUED or RETRYING message (Cancel, R23): CANCELLED,
// final, nothing more is sent. The append expects the stream's version, so
// it races a delivery worker's attempt safely: whichever appends first
// wins, and a cancel that lost is CONFLICT.
func (s Messages) cancel(ctx context.Context, id string) (Result, error) {
	return s.messageCommand(ctx, id, func(_ *attempt, m *message.State) ([]domain.Event, error) { return m.Cancel() })
}

// retryNow makes a RETRYING message due now (RetryNow, R23); the delivery
// workers take it at once, and its attempt counts like any other. Another
// status is CONFLICT.
func (s Messages) retryNow(ctx context.Context, id string) (Result, error) {
	res, err := s.messageCommand(ctx, id, func(_ *attempt, m *message.State) ([]domain.Event, error) { return m.RetryNow(s.now()) })
	if err == nil && s.onQueued != nil {
		s.onQueued(ctx, id) // this process's saga attempts it now
	}
	return res, err
}

// purgeContent erases a message's content now (PurgeContent, R25): it
// appends MessageContentPurged and erases the content in one transaction;
// the history of what was sent to whom stays. Purging purged content
// records nothing.
func (s Messages) purgeContent(ctx context.Context, id, reason string) (Result, error) {
	return s.messageCommand(ctx, id, func(a *attempt, m *message.State) ([]domain.Event, error) {
		events, err := m.Purge(reason)
		if err != nil {
			return nil, err
		}
		a.with(func(ctx context.Context, tx bun.IDB) error { return content.Erase(ctx, tx, id) })
		return events, nil
	})
}

// messageCommand runs an operator's command on a message through execute:
// load the message, decide, append with the stream's version.
func (s Messages) messageCommand(ctx context.Context, id string, decide func(*attempt, *message.State) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var m message.State
		if err := a.load(ctx, message.StreamKind, id, &m); err != nil {
			return nil, err
		}
		events, err := decide(a, &m)
		if err != nil {
			return nil, err
		}
		return one(message.StreamKind, id, events), nil
	})
}

// purgeExpired erases the content of finished messages past their
// retention (R25), at most limit of them, and returns how many it purged.
// A message still being delivered keeps its content until it is finished
// (retries end within about a day, retention is counted in days).
func (s Messages) purgeExpired(ctx context.Context, limit int) (int, error) {
	ids, err := s.expiredFinished(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("app: expired messages: %w", err)
	}
	ctx = WithRequest(ctx, Request{Principal: "system:retention"})
	for i, id := range ids {
		if _, err := s.purgeContent(ctx, id, "retention period ended"); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// expiredFinished returns up to limit finished messages whose content is
// past its retention, oldest retention first: the content store's expired
// contents, page by page, kept when the messages read model shows the
// message finished.
func (s Messages) expiredFinished(ctx context.Context, limit int) ([]string, error) {
	now := s.now()
	var ids []string
	var after content.Expired
	for len(ids) < limit {
		page, err := s.content.Expired(ctx, now, after, limit)
		if err != nil || len(page) == 0 {
			return ids, err
		}
		after = page[len(page)-1]
		pageIDs := make([]string, len(page))
		for i, e := range page {
			pageIDs[i] = e.MessageID
		}
		done, err := s.reader.FinishedMessages(ctx, pageIDs)
		if err != nil {
			return ids, err
		}
		finished := make(map[string]bool, len(done))
		for _, id := range done {
			finished[id] = true
		}
		for _, id := range pageIDs {
			if finished[id] && len(ids) < limit {
				ids = append(ids, id)
			}
		}
		if len(page) < limit {
			break
		}
	}
	return ids, nil
}
