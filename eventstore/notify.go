package eventstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/absender/absender/database"
)

// signal is a broadcast without lost wake-ups: take the channel with Wait
// before looking for work, and it is closed by the next Broadcast after
// that.
type signal struct {
	mu  sync.Mutex
	ch  chan struct{}
	gen atomic.Uint64 // counts broadcasts
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// Wait returns a channel closed by the next Broadcast.
func (s *signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// Broadcast wakes every waiter.
func (s *signal) Broadcast() {
	s.mu.Lock()
	s.gen.Add(1)
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

// notifyChannel is the PostgreSQL channel every append notifies, so that
// consumers in other processes wake without waiting for a poll.
const notifyChannel = "absender_events"

// Listen connects this process's consumers with other processes on the
// same PostgreSQL database: it wakes local consumers when another process
// appends (LISTEN), and tells the others when this one appended (NOTIFY).
// It returns when ctx ends and reconnects after errors; polling stays the
// fallback while it is down. On SQLite it returns at once: there the only
// writers are in this process or poll.
func (s *Store) Listen(ctx context.Context) {
	if s.dbURL == "" {
		return
	}
	if s.notify {
		go s.notifyLoop(ctx)
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("event notifications interrupted; consumers poll until they return", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	s.remote.Broadcast() // catch up on what was appended while we were away
	s.wakeAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.instance {
			s.remote.Broadcast() // another process's; our own woke us already
			s.wakeAll()
		}
	}
}

// notifyLoop sends NOTIFY after local appends, outside their transactions:
// a NOTIFY inside the append would serialise every commit on PostgreSQL's
// notification queue lock (it halved append throughput with 16 writers).
// Appends that commit while a NOTIFY is in flight share the next one.
func (s *Store) notifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.appended:
		}
		if _, err := s.db.Write.DB.ExecContext(ctx, notifyQuery, notifyChannel, s.instance); err != nil && ctx.Err() == nil {
			s.log.Debug("notify other processes", "err", err)
		}
	}
}

// notifyQuery sends the notification in a transaction of its own that
// commits without waiting for its WAL flush: NOTIFY gives the transaction
// an id, and while it commits that id holds every consumer's horizon
// (horizonCTE) below the appends committed meanwhile. A notification lost
// in a crash costs a poll interval at most; it carries no data.
const notifyQuery = "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)"

// NotifyNow tells the other processes on the same PostgreSQL database at
// once that something changed (e.g. after a rebuild from the command
// line, which runs no Listen). On SQLite it does nothing.
func (s *Store) NotifyNow(ctx context.Context) error {
	if s.db.Kind != database.Postgres {
		return nil
	}
	_, err := s.db.Write.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, s.instance)
	return err
}
