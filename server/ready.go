package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/saga"
)

// DefaultReadyMaxLag is how many events a consumer group may be behind
// the log's head while /readyz still answers ready (Options.ReadyMaxLag).
const DefaultReadyMaxLag = 10_000

const (
	// readyTimeout bounds one /readyz answer, every check included.
	readyTimeout = 2 * time.Second
	// pingTimeout bounds the database ping within it.
	pingTimeout = time.Second
)

// readiness is /readyz's answer: each check is "ok" or what is wrong,
// never an error text (it may name a host or hold a secret; the log gets
// it).
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (r *readiness) ok(check string) { r.Checks[check] = "ok" }

func (r *readiness) fail(check, what string) {
	r.Status = "unready"
	r.Checks[check] = what
}

// readyz answers 200 when every check passes, else 503 naming the failing
// ones: the database is reachable ("database"), every migration is
// applied ("migrations"), every consumer group this server runs is at
// most ReadyMaxLag events behind the log's head ("projection <name>",
// "saga"), and the broker is reachable when one is configured ("broker").
// "parked" names the parked events (R35) without failing the answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	res := readiness{Status: "ready", Checks: map[string]string{}}
	reachable := s.checkDatabase(ctx, &res)
	migrated := s.checkMigrations(ctx, &res, reachable)
	switch {
	case !reachable:
		s.skipConsumers(&res, "unknown (database unreachable)")
	case !migrated:
		s.skipConsumers(&res, "unknown (migrations not applied)")
	default:
		s.checkConsumers(ctx, &res)
		s.checkParked(ctx, &res)
	}
	s.checkBroker(ctx, &res)
	code := http.StatusOK
	if res.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, res)
}

// checkDatabase pings through the write pool; database/sql replaces a
// connection the ping finds broken, so the check recovers with the
// database.
func (s *Server) checkDatabase(ctx context.Context, res *readiness) bool {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.db.Write.PingContext(ctx); err != nil {
		res.fail("database", "unreachable")
		s.log.Warn("readiness: database unreachable", "err", err)
		return false
	}
	res.ok("database")
	return true
}

// checkMigrations asks the database until it has once seen every
// migration applied; a running system never unapplies one.
func (s *Server) checkMigrations(ctx context.Context, res *readiness, reachable bool) bool {
	switch {
	case s.migrated.Load():
		res.ok("migrations")
		return true
	case !reachable:
		res.fail("migrations", "unknown (database unreachable)")
		return false
	}
	pending, err := migrations.Pending(ctx, s.db)
	switch {
	case err != nil:
		res.fail("migrations", "cannot read migration status")
		s.log.Warn("readiness: migration status", "err", err)
		return false
	case len(pending) > 0:
		res.fail("migrations", "pending: run absender migrate up")
		return false
	}
	s.migrated.Store(true)
	res.ok("migrations")
	return true
}

// consumer is a consumer group the server runs and the check naming it.
type consumer struct{ check, group string }

// consumers are the read models' groups and, when this server sends, the
// saga's.
func (s *Server) consumers() []consumer {
	var out []consumer
	for _, g := range s.Runner.Groups() {
		out = append(out, consumer{"projection " + g, g})
	}
	if s.Saga != nil {
		out = append(out, consumer{"saga", saga.ConsumerGroup})
	}
	return out
}

func (s *Server) skipConsumers(res *readiness, why string) {
	for _, c := range s.consumers() {
		res.fail(c.check, why)
	}
}

// checkConsumers compares each group's checkpoint with the log's head.
// The count walks the log's key from the checkpoint and stops past the
// bound (eventstore.Store.Behind), so a group far behind costs no more
// than one at the bound. Past the bound the figure reported is the
// distance in offsets: exact on SQLite; on PostgreSQL sequence values
// taken by rolled-back appends may inflate it a little.
func (s *Server) checkConsumers(ctx context.Context, res *readiness) {
	bound := s.readyMaxLag
	if bound <= 0 {
		bound = DefaultReadyMaxLag
	}
	head, err := s.Store.Head(ctx)
	if err != nil {
		s.skipConsumers(res, "cannot read the event log")
		s.log.Warn("readiness: head of the event log", "err", err)
		return
	}
	for _, c := range s.consumers() {
		behind, err := s.behind(ctx, c.group, head, bound)
		switch {
		case err != nil:
			res.fail(c.check, "cannot read its position")
			s.log.Warn("readiness: consumer group position", "group", c.group, "err", err)
		case behind > bound:
			res.fail(c.check, fmt.Sprintf("%s events behind (bound %s)", thousands(behind), thousands(bound)))
		default:
			res.ok(c.check)
		}
	}
}

// behind is how far group is behind head, counted up to bound+1.
func (s *Server) behind(ctx context.Context, group string, head eventstore.Position, bound int64) (int64, error) {
	cp, err := s.Store.Checkpoint(ctx, group)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.Behind(ctx, cp, head, bound+1)
	if err != nil || n <= bound {
		return n, err
	}
	return max(n, head.Offset-cp.Offset), nil
}

// checkParked names the parked events (R35): "ok" when there are none,
// else how many ("2 events"). It never makes the answer unready: one
// event that every instance fails on must not take them all out of
// service; parkedEvents and the absender_parked_events metric say more.
func (s *Server) checkParked(ctx context.Context, res *readiness) {
	counts, err := s.parkedCounts(ctx)
	if err != nil {
		res.Checks["parked"] = "unknown (cannot read parked events)"
		s.log.Warn("readiness: parked events", "err", err)
		return
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	switch n {
	case 0:
		res.ok("parked")
	case 1:
		res.Checks["parked"] = "1 event"
	default:
		res.Checks["parked"] = thousands(n) + " events"
	}
}

// parkedCounts counts parked events by consumer group, with a zero for
// each group this server runs.
func (s *Server) parkedCounts(ctx context.Context) (map[string]int64, error) {
	counts, err := s.Store.ParkedCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range s.consumers() {
		counts[c.group] += 0
	}
	return counts, nil
}

// checkBroker runs Options.BrokerCheck when there is one.
func (s *Server) checkBroker(ctx context.Context, res *readiness) {
	if s.brokerCheck == nil {
		return
	}
	if err := s.brokerCheck(ctx); err != nil {
		res.fail("broker", "unreachable")
		s.log.Warn("readiness: broker unreachable", "err", err)
		return
	}
	res.ok("broker")
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	d := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, d = "-", d[1:]
	}
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return sign + string(out)
}
