package app

import (
	"context"
	"time"

	"github.com/absender/absender/domain/message"
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
