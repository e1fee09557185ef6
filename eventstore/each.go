package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/database"
	"github.com/absender/absender/telemetry"
)

// Guarded is one append of a group (AppendEach): its streams at their
// expected versions, as for Append, and the streams of Unchanged at exactly
// the given versions, as for AppendIf.
type Guarded struct {
	Unchanged map[string]int64
	Appends   []StreamAppend
}

// AppendEach appends a group of independent appends, each checked on its
// own: the result and error at index i are those of each[i], as AppendIf
// would give them appended one after the other, in order, and a conflict
// of one does not fail the others. An append that is a retry of one
// already stored (its events' IDs are stored where it meant them) is
// answered as done with their positions, as Append answers it, also when
// it required streams unchanged: it passed that check when it was
// stored.
//
// On PostgreSQL the group is one statement, so one round trip and one
// commit for all of them (group commit): each append's rows are inserted
// only if its own checks hold, all checks reading the statement's
// snapshot. So a group is one statement only if it is independent: no
// stream is appended by two appends, or appended by one and required
// unchanged by another, and none expects Any; any other group, and a
// group whose statement fails as a whole (a concurrent writer took a
// version of one of the streams, an event ID stored elsewhere, a lost
// connection), is appended one append after the other. On SQLite, where
// the one writer connection serialises transactions anyway, the appends
// always run one after the other.
func (s *Store) AppendEach(ctx context.Context, each []Guarded) ([]AppendResult, []error) {
	results, errs := make([]AppendResult, len(each)), make([]error, len(each))
	msgs := make([][]*message.Message, len(each)) // the group statement's, by append
	one := func(i int) {
		results[i], errs[i] = s.AppendIf(ctx, each[i].Unchanged, each[i].Appends...)
		if errs[i] != nil {
			results[i], errs[i] = s.retried(ctx, each[i].Appends, msgs[i], errs[i])
		}
	}
	if s.db.Kind != database.Postgres || len(each) < 2 {
		for i := range each {
			one(i)
		}
		return results, errs
	}
	n := 0
	for _, g := range each {
		for _, a := range g.Appends {
			n += len(a.Events)
		}
	}
	ctx, span := telemetry.Tracer().Start(ctx, "eventstore.append_each", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Int("absender.appends", len(each)), attribute.Int("absender.events", n)))
	appended := map[string]bool{}
	grouped := true
	for i, g := range each {
		var err error
		if msgs[i], err = s.messages(ctx, g.Appends); err != nil {
			errs[i] = err
			continue
		}
		for _, a := range g.Appends {
			if a.ExpectedVersion == Any || appended[a.StreamID] {
				grouped = false
			}
			appended[a.StreamID] = true
		}
	}
	for _, g := range each {
		for id := range g.Unchanged {
			if appended[id] && !appendsTo(g.Appends, id) {
				// Another append of the group writes a stream this
				// one requires unchanged: one after the other, the
				// later of them sees the other's events.
				grouped = false
			}
		}
	}
	var err error
	if grouped {
		err = s.appendEachPostgres(ctx, each, msgs, results, errs)
	}
	telemetry.End(span, err)
	if !grouped || err != nil {
		// Each on its own: AppendIf sorts out conflicts and retries.
		for i := range each {
			if msgs[i] != nil {
				one(i)
			}
		}
		return results, errs
	}
	for i, g := range each {
		if errs[i] == nil {
			for _, a := range g.Appends {
				telemetry.Appended(ctx, a.StreamType, len(a.Events))
			}
		} else {
			results[i], errs[i] = s.retried(ctx, g.Appends, msgs[i], errs[i])
		}
	}
	s.Changed()
	return results, errs
}

// appendsTo says whether appends write stream id.
func appendsTo(appends []StreamAppend, id string) bool {
	for _, a := range appends {
		if a.StreamID == id {
			return true
		}
	}
	return false
}

// retried answers an append of a group refused with err: if err is a
// conflict (or an event ID already stored) and the append is a retry of
// one already stored where it meant to be, it is done, as Append answers
// it (idempotentResult). msgs are the append's events as the group's
// statement wrote them, nil where there was none: then only events with
// IDs given by the caller can have been stored before.
func (s *Store) retried(ctx context.Context, appends []StreamAppend, msgs []*message.Message, err error) (AppendResult, error) {
	if !errors.Is(err, ErrConflict) && constraint(err) != "events_uuid_key" {
		return AppendResult{}, err
	}
	if msgs == nil {
		if len(appends) == 0 || len(appends[0].Events) == 0 || appends[0].Events[0].ID == "" {
			return AppendResult{}, err // new IDs: not a retry
		}
		var merr error
		if msgs, merr = s.messages(ctx, appends); merr != nil {
			return AppendResult{}, err
		}
	}
	res, found, idErr := s.idempotentResult(ctx, appends, msgs)
	switch {
	case idErr != nil:
		return AppendResult{}, idErr
	case !found:
		return AppendResult{}, err
	}
	s.Changed() // the first try may have committed without waking anyone
	return res, nil
}

// GroupCommits says whether AppendEach writes a group in one commit (on
// PostgreSQL); where it does not (SQLite), a caller gains nothing by
// gathering appends for it and may append each at once.
func (s *Store) GroupCommits() bool { return s.db.Kind == database.Postgres }

// appendEachPostgres writes the group in one statement: the rows of every
// append carry its index, and an append's rows pass the WHERE only if its
// streams are at their expected versions and its unchanged streams at
// theirs (equality lookups on the (stream_id, version) key, evaluated once
// per statement). RETURNING tells which appends were written; one that
// was not is a conflict. An error fails the statement as a whole and is
// returned for the caller to try each append on its own.
func (s *Store) appendEachPostgres(ctx context.Context, each []Guarded, msgs [][]*message.Message, results []AppendResult, errs []error) error {
	var b strings.Builder
	var args []any
	b.WriteString(`WITH ins AS (INSERT INTO events (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, transaction_id)
		SELECT uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, pg_current_xact_id() FROM (VALUES `)
	var where []string
	rows := 0
	for i, g := range each {
		if msgs[i] == nil {
			continue // refused before: errs[i] says why
		}
		a, err := insertArgs(msgs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		for r := range msgs[i] {
			if rows > 0 {
				b.WriteByte(',')
			}
			rows++
			n := len(args)
			fmt.Fprintf(&b, "($%d::varchar,$%d::json,$%d::json,$%d::timestamptz,$%d::text,$%d::text,$%d::bigint,$%d::text,$%d::int,%d)",
				n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, i)
			args = append(args, a[r*9:r*9+9]...)
		}
		var checks []string
		at := func(stream string, version int64) {
			checks = append(checks, fmt.Sprintf("(SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $%d) = $%d::bigint", len(args)+1, len(args)+2))
			args = append(args, stream, version)
		}
		for _, sa := range g.Appends {
			at(sa.StreamID, sa.ExpectedVersion)
		}
		for _, id := range sortedKeys(g.Unchanged) {
			at(id, g.Unchanged[id])
		}
		where = append(where, fmt.Sprintf("(v.i = %d AND %s)", i, strings.Join(checks, " AND ")))
	}
	if rows == 0 {
		return nil
	}
	b.WriteString(`) AS v (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, i) WHERE `)
	b.WriteString(strings.Join(where, " OR "))
	b.WriteString(` RETURNING "offset", stream_id)
		SELECT "offset", stream_id, pg_current_xact_id()::text FROM ins`)
	q, err := s.db.Write.DB.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("eventstore: append each: %w", err)
	}
	defer q.Close()
	written := map[string]int{}
	last := map[string]Position{}
	for q.Next() {
		var off int64
		var stream, txid string
		if err := q.Scan(&off, &stream, &txid); err != nil {
			return fmt.Errorf("eventstore: append each: %w", err)
		}
		written[stream]++
		tx, _ := strconv.ParseUint(txid, 10, 64)
		if p := (Position{TxID: tx, Offset: off}); last[stream].Less(p) {
			last[stream] = p
		}
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("eventstore: append each: %w", err)
	}
	for i, g := range each {
		if msgs[i] == nil || errs[i] != nil {
			continue
		}
		res := AppendResult{Versions: map[string]int64{}}
		ok := true
		for _, sa := range g.Appends {
			if written[sa.StreamID] != len(sa.Events) {
				ok = false
				break
			}
			res.Versions[sa.StreamID] = sa.ExpectedVersion + int64(len(sa.Events))
			if res.Last.Less(last[sa.StreamID]) {
				res.Last = last[sa.StreamID]
			}
		}
		if !ok {
			if len(g.Appends) == 1 && len(g.Unchanged) == 0 {
				errs[i] = &ConflictError{StreamID: g.Appends[0].StreamID, Expected: g.Appends[0].ExpectedVersion}
			} else {
				errs[i] = &ConflictError{}
			}
			continue
		}
		results[i] = res
	}
	return nil
}

// sortedKeys returns the keys of m in order, so the same streams give the
// same statement text (one cached plan).
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
