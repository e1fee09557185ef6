package app

import (
	"context"
	"errors"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// Message loads a message aggregate and when it was queued (the zero time
// for an unknown message): a mutation's answer when the read models lag
// (R36).
func (s *Service) Message(ctx context.Context, messageID string) (*message.State, time.Time, error) {
	var m message.State
	recs, err := s.loadRecords(ctx, MessageStreamID(messageID), &m)
	if err != nil || len(recs) == 0 {
		return &m, time.Time{}, err
	}
	return &m, recs[0].RecordedAt, nil
}

// CancelMessage cancels a QUEUED or RETRYING message (R23): CANCELLED,
// final, nothing more is sent. The append expects the stream's version, so
// it races a delivery worker's attempt safely: whichever appends first
// wins, and a cancel that lost is CONFLICT. Permission is the caller's to
// check.
func (s *Service) CancelMessage(ctx context.Context, id string) (Result, error) {
	return s.messageCommand(ctx, id, func(m *message.State) ([]domain.Event, error) { return m.Cancel() })
}

// RetryMessageNow makes a RETRYING message due now (R23); the delivery
// workers take it at once, and its attempt counts like any other. Another
// status is CONFLICT. Permission is the caller's to check.
func (s *Service) RetryMessageNow(ctx context.Context, id string) (Result, error) {
	res, err := s.messageCommand(ctx, id, func(m *message.State) ([]domain.Event, error) { return m.RetryNow(s.now()) })
	if err == nil && s.onQueued != nil {
		s.onQueued(ctx, id) // this process's saga attempts it now
	}
	return res, err
}

// messageCommand runs an operator's command on a message: load, decide,
// append with the expected version; on a conflict decide again on what the
// saga recorded meanwhile.
func (s *Service) messageCommand(ctx context.Context, id string, decide func(*message.State) ([]domain.Event, error)) (Result, error) {
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
