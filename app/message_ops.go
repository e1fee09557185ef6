package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// The operator's commands on a queued message (cancel, retry now, purge)
// and the retention sweep (R23, R25). Each appends with the message
// stream's expected version, so it races the saga's steps only through
// optimistic concurrency.

// cancel cancels a QUEUED or RETRYING message (Cancel, R23): CANCELLED,
// final, nothing more is sent. The append expects the stream's version, so
// it races a delivery worker's attempt safely: whichever appends first
// wins, and a cancel that lost is CONFLICT.
func (s Messages) cancel(ctx context.Context, id string) (Result, error) {
	return s.messageCommand(ctx, id, func(m *message.State) ([]domain.Event, error) { return m.Cancel() })
}

// retryNow makes a RETRYING message due now (RetryNow, R23); the delivery
// workers take it at once, and its attempt counts like any other. Another
// status is CONFLICT.
func (s Messages) retryNow(ctx context.Context, id string) (Result, error) {
	res, err := s.messageCommand(ctx, id, func(m *message.State) ([]domain.Event, error) { return m.RetryNow(s.now()) })
	if err == nil && s.onQueued != nil {
		s.onQueued(ctx, id) // this process's saga attempts it now
	}
	return res, err
}

// messageCommand runs an operator's command on a message: load, decide,
// append with the expected version; on a conflict decide again on what the
// saga recorded meanwhile.
func (s Messages) messageCommand(ctx context.Context, id string, decide func(*message.State) ([]domain.Event, error)) (Result, error) {
	for range s.retries {
		var m message.State
		recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
		if err != nil {
			return Result{}, err
		}
		events, err := decide(&m)
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{Position: recs[len(recs)-1].Position}, nil
		}
		a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: MessageStreamID(id), ExpectedVersion: version(recs)}
		for _, ev := range events {
			a.Events = append(a.Events, eventstore.NewEvent{Event: ev, Metadata: s.metadata(RequestFrom(ctx), m.TenantID())})
		}
		res, err := s.store.Append(ctx, a)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the saga moved on meanwhile: decide again
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Position: res.Last, Events: len(a.Events)}, nil
	}
	return Result{}, domain.Conflict("the message changed too often; try again")
}

// purgeContent erases a message's content now (PurgeContent, R25): it
// appends MessageContentPurged and erases the content in one transaction;
// the history of what was sent to whom stays.
func (s Messages) purgeContent(ctx context.Context, id, reason string) (Result, error) {
	for range s.retries {
		var m message.State
		recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
		if err != nil {
			return Result{}, err
		}
		events, err := m.Purge(reason)
		if err != nil || len(events) == 0 {
			return Result{}, err
		}
		a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: MessageStreamID(id), ExpectedVersion: version(recs),
			Events: []eventstore.NewEvent{{Event: events[0], Metadata: s.metadata(RequestFrom(ctx), m.TenantID())}}}
		res, err := s.store.AppendWith(ctx, func(ctx context.Context, tx bun.IDB) error {
			return content.Erase(ctx, tx, id)
		}, a)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the saga moved on meanwhile
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Position: res.Last, Events: 1}, nil
	}
	return Result{}, domain.Conflict("the message changed too often while its content was purged; try again")
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
