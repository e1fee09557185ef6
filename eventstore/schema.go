package eventstore

import (
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Topic is the one watermill topic: the events table.
const Topic = "events"

// Message metadata keys that carry an event's stream columns between the
// store and watermill. They live in their own columns, not in the metadata
// JSON; consumers find them in msg.Metadata.
const (
	keyStreamType    = "stream_type"
	keyStreamID      = "stream_id"
	keyVersion       = "version"
	keyEventType     = "event_type"
	keySchemaVersion = "schema_version"
	keyRecordedAt    = "recorded_at"
	keyOffset        = "offset"
	keyTxID          = "transaction_id"
	// keyAppendGroup numbers an append on SQLite (its transaction_id).
	keyAppendGroup = "append_group"
)

var columnKeys = []string{keyStreamType, keyStreamID, keyVersion, keyEventType, keySchemaVersion, keyRecordedAt, keyOffset, keyTxID, keyAppendGroup}

const selectColumns = `"offset", transaction_id, uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version`

// insertArgs turns messages into the column values of the events table, in
// the order: uuid, payload, metadata, created_at, stream_type, stream_id,
// version, event_type, schema_version.
func insertArgs(msgs message.Messages) ([]any, error) {
	args := make([]any, 0, len(msgs)*9)
	for _, msg := range msgs {
		md := make(map[string]string, len(msg.Metadata))
		for k, v := range msg.Metadata {
			md[k] = v
		}
		for _, k := range columnKeys {
			delete(md, k)
		}
		mdJSON, err := json.Marshal(md)
		if err != nil {
			return nil, fmt.Errorf("eventstore: metadata of %s: %w", msg.UUID, err)
		}
		version, err := strconv.ParseInt(msg.Metadata.Get(keyVersion), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("eventstore: version of %s: %w", msg.UUID, err)
		}
		schemaVersion, err := strconv.Atoi(msg.Metadata.Get(keySchemaVersion))
		if err != nil {
			return nil, fmt.Errorf("eventstore: schema version of %s: %w", msg.UUID, err)
		}
		streamID := msg.Metadata.Get(keyStreamID)
		if streamID == "" {
			return nil, fmt.Errorf("eventstore: message %s has no stream: %w", msg.UUID, ErrInvalidAppend)
		}
		args = append(args, msg.UUID, []byte(msg.Payload), mdJSON, msg.Metadata.Get(keyRecordedAt),
			msg.Metadata.Get(keyStreamType), streamID, version,
			msg.Metadata.Get(keyEventType), schemaVersion)
	}
	return args, nil
}

// unmarshalRow scans a row selected with selectColumns into a watermill
// message that carries the stream columns in its metadata.
func unmarshalRow(row wsql.Scanner, txScan any, txString func() string) (wsql.Row, error) {
	var (
		r                         wsql.Row
		createdAt                 any
		streamType, streamID, typ string
		version                   int64
		schemaVersion             int
	)
	if err := row.Scan(&r.Offset, txScan, &r.UUID, &r.Payload, &r.Metadata, &createdAt,
		&streamType, &streamID, &version, &typ, &schemaVersion); err != nil {
		return wsql.Row{}, fmt.Errorf("eventstore: scan event: %w", err)
	}
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("eventstore: metadata of %s: %w", r.UUID, err)
		}
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	msg.Metadata.Set(keyStreamType, streamType)
	msg.Metadata.Set(keyStreamID, streamID)
	msg.Metadata.Set(keyVersion, strconv.FormatInt(version, 10))
	msg.Metadata.Set(keyEventType, typ)
	msg.Metadata.Set(keySchemaVersion, strconv.Itoa(schemaVersion))
	msg.Metadata.Set(keyRecordedAt, formatTime(createdAt))
	msg.Metadata.Set(keyOffset, strconv.FormatInt(r.Offset, 10))
	msg.Metadata.Set(keyTxID, txString())
	r.Msg = msg
	return r, nil
}

// formatTime renders a scanned timestamp (time.Time from PostgreSQL, text
// from SQLite) as RFC 3339 with nanoseconds in UTC.
func formatTime(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case string:
		return t
	case []byte:
		return string(t)
	}
	return ""
}

// postgresSchema is the watermill-sql schema adapter for the events table on
// PostgreSQL: DefaultPostgreSQLSchema's commit-order reading (transaction_id
// below the horizon, see horizonCTE, so an event that commits late is never
// skipped) with the event store's extra columns.
type postgresSchema struct {
	wsql.DefaultPostgreSQLSchema
	batch int
}

func (s postgresSchema) MessagesTable(string) string { return "events" }

func (s postgresSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil // the migrations own the schema
}

func (s postgresSchema) InsertQuery(p wsql.InsertQueryParams) (wsql.Query, error) {
	return postgresInsert(p.Msgs, nil)
}

// postgresInsert is the one statement of an append on PostgreSQL: the rows
// are inserted only if every check holds, and RETURNING gives their
// offsets. The checks are that each stream's expected version exists (the
// version before its first event here, when above 0: the unique constraint
// on (stream_id, version) cannot see an expectation past a stream's end)
// and that each stream of unchanged is at exactly its version (AppendIf).
// Every check is an equality lookup on the (stream_id, version) key, which
// the planner uses whatever the table's statistics say (an anti-join over
// unnest turned into a scan of the whole log while statistics were stale).
// A check that fails inserts nothing, so the statement needs no
// transaction of its own; a stale expectation still fails on the unique
// constraint. The casts type the parameters, which INSERT … VALUES would
// take from the columns.
func postgresInsert(msgs message.Messages, unchanged map[string]int64) (wsql.Query, error) {
	args, err := insertArgs(msgs)
	if err != nil {
		return wsql.Query{}, err
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO events (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, transaction_id) SELECT * FROM (VALUES `)
	for i := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		n := i * 9
		fmt.Fprintf(&b, "($%d::varchar,$%d::json,$%d::json,$%d::timestamptz,$%d::text,$%d::text,$%d::bigint,$%d::text,$%d::int,pg_current_xact_id())",
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9)
	}
	b.WriteString(`) AS v`)
	// The version each stream must have now: its first event's less one.
	var present []string
	seen := map[string]bool{}
	for i := range msgs {
		stream, version := args[i*9+5].(string), args[i*9+6].(int64)
		if seen[stream] {
			continue
		}
		seen[stream] = true
		if version > 1 {
			present = append(present, fmt.Sprintf("(stream_id = $%d AND version = $%d)", len(args)+1, len(args)+2))
			args = append(args, stream, version-1)
		}
	}
	var checks []string
	if len(present) > 0 {
		checks = append(checks, fmt.Sprintf("(SELECT count(*) FROM events WHERE %s) = %d", strings.Join(present, " OR "), len(present)))
	}
	streams := make([]string, 0, len(unchanged))
	for id := range unchanged {
		streams = append(streams, id)
	}
	sort.Strings(streams) // one text, so one cached plan, for the same streams
	for _, id := range streams {
		checks = append(checks, fmt.Sprintf("(SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $%d) = $%d::bigint", len(args)+1, len(args)+2))
		args = append(args, id, unchanged[id])
	}
	if len(checks) > 0 {
		b.WriteString(` WHERE `)
		b.WriteString(strings.Join(checks, " AND "))
	}
	b.WriteString(` RETURNING "offset"`)
	return wsql.Query{Query: b.String(), Args: args}, nil
}

func (s postgresSchema) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := p.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{Topic: p.Topic, ConsumerGroup: p.ConsumerGroup})
	if err != nil {
		return wsql.Query{}, err
	}
	// A batch ends on a transaction boundary: it takes the next batchSize
	// events and then the rest of the last transaction among them, so a
	// consumer never commits half of a command (queries never see a
	// half-applied command). Both reads walk the primary key from the
	// group's position (row comparisons), so a consumer far behind pays
	// for its batch, not for the rest of the log.
	q := `WITH last_processed AS (` + next.Query + `),
	cursor AS (
		SELECT last_processed_transaction_id AS tx, COALESCE(offset_acked, 0) AS off FROM last_processed
	),
	` + horizonCTE(`(SELECT tx FROM cursor)`, `(SELECT off FROM cursor)`) + `,
	page AS (
		SELECT transaction_id FROM events
		WHERE (transaction_id, "offset") > ((SELECT tx FROM cursor), (SELECT off FROM cursor))
		  AND transaction_id < (SELECT xid FROM horizon)
		ORDER BY transaction_id, "offset"
		LIMIT ` + strconv.Itoa(batchSize(s.batch)) + `
	)
	SELECT ` + selectColumns + ` FROM events
	WHERE (transaction_id, "offset") > ((SELECT tx FROM cursor), (SELECT off FROM cursor))
	  AND transaction_id <= (SELECT max(transaction_id) FROM page)
	  AND transaction_id < (SELECT xid FROM horizon)
	ORDER BY transaction_id ASC, "offset" ASC`
	return wsql.Query{Query: q, Args: next.Args}, nil
}

// horizonCTE is the CTE "horizon" with one row: xid, the transaction id
// below which a reader of the log on PostgreSQL may take every event after
// the cursor (cursorTx, cursorOff): every transaction below it that could
// still write to this database's events table has ended in the reader's
// snapshot, so no event can commit there later with a smaller
// transaction_id than one already read (gap-free, in commit order).
//
// pg_snapshot_xmin alone is that bound, but transaction ids are
// cluster-wide: a transaction with an id open in ANOTHER database of the
// server (another application's report, an idle session in transaction)
// held back every consumer here until it ended. The horizon is instead the
// smallest id in progress in the snapshot (pg_snapshot_xip) that is not
// known to belong to a backend connected to another database, or the
// snapshot's xmax when there is none:
//
//   - a backend is connected to one database for its life and can write
//     only there, so a top-level id that pg_stat_get_activity shows as the
//     backend_xid of a backend of another database (datid, readable by
//     every role) can never insert into our events table, whenever it was
//     seen;
//   - everything else in progress blocks: this database's transactions,
//     prepared transactions (their ids leave the backend), backends without
//     a database, ids that ended between the snapshot and the look-up;
//   - ids in [xmin, xmax) not in pg_snapshot_xip have ended (visible or
//     rolled back); ids from xmax on count as in progress (a transaction
//     may run with one without being listed), so they all stay out;
//   - pg_snapshot_xip lists top-level ids only, and transaction_id is the
//     top-level id (pg_current_xact_id), also for inserts in a
//     subtransaction;
//   - backend_xid is 32 bits: it is compared with the low 32 bits of the
//     xid8. Two ids in progress at once are less than 2^31 apart
//     (wraparound protection), so the low bits name one of them.
//
// The look-up of the server's backends runs only when it can change the
// answer: when some transaction is in progress in the snapshot and an
// event after the cursor lies at or above xmin (otherwise xmin reads the
// same events; the probe walks the primary key, ordered so that the
// planner never scans the table for it). In a REPEATABLE READ transaction
// the snapshot is the transaction's, and the backends are read once per
// transaction.
func horizonCTE(cursorTx, cursorOff string) string {
	return `horizon AS (
		SELECT CASE
			WHEN pg_snapshot_xmin(snap) = pg_snapshot_xmax(snap) THEN pg_snapshot_xmax(snap)
			WHEN (
				SELECT transaction_id FROM events
				WHERE (transaction_id, "offset") > (` + cursorTx + `, ` + cursorOff + `)
				  AND transaction_id >= pg_snapshot_xmin(snap)
				ORDER BY transaction_id, "offset" LIMIT 1
			) IS NULL THEN pg_snapshot_xmin(snap)
			ELSE COALESCE((
				SELECT min(x) FROM pg_snapshot_xip(snap) AS x
				WHERE x::text::bigint % 4294967296 NOT IN (
					SELECT a.backend_xid::text::bigint FROM pg_stat_get_activity(NULL) AS a
					WHERE a.backend_xid IS NOT NULL
					  AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
				)
			), pg_snapshot_xmax(snap))
		END AS xid
		FROM pg_current_snapshot() AS snap
	)`
}

func (s postgresSchema) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var tx wsql.XID8
	r, err := unmarshalRow(p.Row, &tx, func() string { return strconv.FormatUint(uint64(tx), 10) })
	if err != nil {
		return r, err
	}
	r.ExtraData = map[string]any{"transaction_id": tx}
	return r, nil
}

func (s postgresSchema) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelRepeatableRead
}

// postgresOffsets is watermill's PostgreSQL offsets adapter on our table.
type postgresOffsets struct {
	wsql.DefaultPostgreSQLOffsetsAdapter
}

func newPostgresOffsets() postgresOffsets {
	return postgresOffsets{wsql.DefaultPostgreSQLOffsetsAdapter{
		GenerateMessagesOffsetsTableName: func(string) string { return "events_offsets" },
	}}
}

func (postgresOffsets) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// sqliteSchema is the same adapter for SQLite, which watermill-sql lacks.
// One writer connection serialises every write transaction, so "offset"
// order is commit order and the consumer reads by "offset" alone.
type sqliteSchema struct{ batch int }

func (sqliteSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (sqliteSchema) InsertQuery(p wsql.InsertQueryParams) (wsql.Query, error) {
	args, err := insertArgs(p.Msgs)
	if err != nil {
		return wsql.Query{}, err
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO events (uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version, transaction_id) VALUES `)
	// transaction_id groups the events of one append (see SelectQuery).
	group := p.Msgs[0].Metadata.Get(keyAppendGroup)
	full := make([]any, 0, len(args)+len(p.Msgs))
	for i := range p.Msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
		full = append(full, args[i*9:i*9+9]...)
		full = append(full, group)
	}
	return wsql.Query{Query: b.String(), Args: full}, nil
}

func (s sqliteSchema) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	// As on PostgreSQL, a batch ends on an append boundary: transaction_id
	// groups the events of one append here.
	q := `WITH after AS (
		SELECT COALESCE((SELECT offset_acked FROM events_offsets WHERE consumer_group = ?), 0) AS o
	),
	page AS (
		SELECT "offset", transaction_id FROM events WHERE "offset" > (SELECT o FROM after) ORDER BY "offset" LIMIT ` + strconv.Itoa(batchSize(s.batch)) + `
	),
	page_end AS (
		SELECT MAX(e."offset") AS o FROM events e
		WHERE e.transaction_id = (SELECT transaction_id FROM page ORDER BY "offset" DESC LIMIT 1)
		   OR e."offset" = (SELECT MAX("offset") FROM page)
	)
	SELECT ` + selectColumns + ` FROM events
	WHERE "offset" > (SELECT o FROM after) AND "offset" <= (SELECT o FROM page_end)
	ORDER BY "offset" ASC`
	return wsql.Query{Query: q, Args: []any{p.ConsumerGroup}}, nil
}

func (sqliteSchema) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var group int64
	// The position on SQLite is the offset alone; the append group is not
	// part of it.
	return unmarshalRow(p.Row, &group, func() string { return "0" })
}

func (sqliteSchema) SubscribeIsolationLevel() stdsql.IsolationLevel { return stdsql.LevelDefault }

type sqliteOffsets struct{}

func (sqliteOffsets) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, ?, 0)
			ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked`,
		Args: []any{p.ConsumerGroup, p.LastRow.Offset},
	}, nil
}

func (sqliteOffsets) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (sqliteOffsets) NextOffsetQuery(p wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT offset_acked, last_processed_transaction_id FROM events_offsets WHERE consumer_group = ?`,
		Args:  []any{p.ConsumerGroup},
	}, nil
}

func (sqliteOffsets) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (sqliteOffsets) BeforeSubscribingQueries(p wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return []wsql.Query{{
		Query: `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, 0, 0) ON CONFLICT DO NOTHING`,
		Args:  []any{p.ConsumerGroup},
	}}, nil
}

func batchSize(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}
