// Package tokenusage records when an API token was last used
// (ApiToken.lastUsedAt); it alone reads and writes api_token_usage.
// Operational data, not an event (it would double the log for every
// request): written at most once a minute per token by the process that
// authenticated it; not part of any read model, so a rebuild keeps it.
package tokenusage

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// TimeFormat is the stored form of a time, the read models' format
// (projections.TimeFormat), so a token's row and its usage read alike.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Store reads and writes token usage.
type Store struct {
	db bun.IDB

	mu   sync.Mutex
	last map[string]time.Time // last usage written by this process, per token
}

// New returns a store on db.
func New(db bun.IDB) *Store { return &Store{db: db, last: map[string]time.Time{}} }

// Used records that a token was used now, at most once a minute per token
// and process.
func (s *Store) Used(ctx context.Context, tokenID string, now time.Time) error {
	s.mu.Lock()
	if now.Sub(s.last[tokenID]) < time.Minute {
		s.mu.Unlock()
		return nil
	}
	s.last[tokenID] = now
	s.mu.Unlock()
	_, err := s.db.NewRaw(`INSERT INTO api_token_usage (token_id, last_used_at) VALUES (?, ?)
		ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at`, tokenID, now.UTC().Format(TimeFormat)).Exec(ctx)
	return err
}

// LastUsed returns when each of ids was last used (in TimeFormat); a token
// never used is absent.
func (s *Store) LastUsed(ctx context.Context, ids ...string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		TokenID    string `bun:"token_id"`
		LastUsedAt string `bun:"last_used_at"`
	}
	if err := s.db.NewRaw(`SELECT token_id, last_used_at FROM api_token_usage WHERE token_id IN (?)`, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.TokenID] = r.LastUsedAt
	}
	return out, nil
}
