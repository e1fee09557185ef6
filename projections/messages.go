package projections

import (
	"context"
	"encoding/json"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// Messages is the messages read model (SPEC §4 Message) and the delivery
// workers' queue: due_at says when a message needs a worker next — when
// its transport is resolved or a retry is due; for a message SENDING, when
// its attempt started (it is due once that is an attempt timeout ago, see
// package saga) — and is NULL once nothing is left to do.
type Messages struct{}

// Name is the consumer group.
func (Messages) Name() string { return "messages" }

// Tables of the messages read model.
func (Messages) Tables() []string { return []string{"rm_messages"} }

// Handles says the messages read model applies message events only.
func (Messages) Handles(rec eventstore.Record) bool {
	return rec.StreamType == string(message.StreamKind)
}

// Recipients is the JSON of rm_messages.recipients.
type Recipients struct {
	To []string `json:"to"`
	Cc []string `json:"cc"`
}

func mailboxes(ms []message.Mailbox) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Apply updates the message an event belongs to.
func (Messages) Apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	at := rec.RecordedAt.UTC().Format(TimeFormat)
	ms := rec.RecordedAt.UnixMilli()
	switch e := rec.Event.(type) {
	case message.MessageQueued:
		var replyTo, transport, mailboxID *string
		if e.ReplyTo != nil {
			replyTo = nullString(e.ReplyTo.String())
		}
		if e.Target != nil {
			transport, mailboxID = nullString(e.Target.Transport.String()), nullString(e.Target.MailboxID)
		}
		return tx.Exec(ctx, `INSERT INTO rm_messages (id, tenant_id, user_id, kind, status, sender, reply_to, recipients, subject,
				transport, mailbox_id, created_at, updated_at, seq, trace_parent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.MessageID, e.TenantID, nullString(e.UserID), string(e.Kind), string(message.StatusQueued), e.From.String(), replyTo,
			jsonText(Recipients{To: mailboxes(e.To), Cc: mailboxes(e.Cc)}), e.Subject, transport, mailboxID, at, at, rec.Position.Offset,
			nullString(rec.Metadata.TraceParent))
	case message.TransportResolved:
		r := e.Resolution
		return tx.Exec(ctx, `UPDATE rm_messages SET transport = ?, mailbox_id = ?, resolution = ?, updated_at = ?,
				due_at = CASE WHEN status IN ('QUEUED', 'RETRYING') THEN ? ELSE due_at END WHERE id = ?`,
			r.Transport.String(), nullString(r.MailboxID), jsonText(r), at, ms, e.MessageID)
	case message.DeliveryAttempted:
		// Due when the attempt times out without outcome (the workers
		// compare a SENDING message's due_at with now minus the timeout).
		return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, attempts = ?, updated_at = ?, due_at = ? WHERE id = ?`,
			string(message.StatusSending), e.Attempt, at, ms, e.MessageID)
	case message.MessageSent:
		refused := make([]string, len(e.Refused))
		for i, r := range e.Refused {
			refused[i] = r.Recipient
		}
		return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, header_id = ?, refused = ?, last_error = NULL, updated_at = ?, due_at = NULL WHERE id = ?`,
			string(message.StatusSent), e.HeaderID, jsonText(refused), at, e.MessageID)
	case message.DeliveryFailed:
		return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, last_error = ?, updated_at = ?, due_at = ? WHERE id = ?`,
			string(message.StatusRetrying), e.Reason, at, e.RetryAt.UnixMilli(), e.MessageID)
	case message.MessageFailed:
		return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, attempts = ?, last_error = ?, updated_at = ?, due_at = NULL WHERE id = ?`,
			string(message.StatusFailed), e.Attempts, e.Reason, at, e.MessageID)
	case message.MessageRejected:
		return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, last_error = ?, updated_at = ?, due_at = NULL WHERE id = ?`,
			string(message.StatusRejected), string(e.Code)+": "+e.Reason, at, e.MessageID)
	case message.MessageContentPurged:
		return tx.Exec(ctx, `UPDATE rm_messages SET purged = ?, updated_at = ? WHERE id = ?`, true, at, e.MessageID)
	}
	return nil
}

// MessageRow is one message of the read model.
type MessageRow struct {
	ID         string  `bun:"id"`
	TenantID   string  `bun:"tenant_id"`
	UserID     *string `bun:"user_id"`
	Kind       string  `bun:"kind"`
	Status     string  `bun:"status"`
	Sender     string  `bun:"sender"`
	ReplyTo    *string `bun:"reply_to"`
	Recipients string  `bun:"recipients"`
	Subject    string  `bun:"subject"`
	Transport  *string `bun:"transport"`
	MailboxID  *string `bun:"mailbox_id"`
	Attempts   int     `bun:"attempts"`
	LastError  *string `bun:"last_error"`
	HeaderID   *string `bun:"header_id"`
	Refused    string  `bun:"refused"`
	Resolution *string `bun:"resolution"`
	Purged     bool    `bun:"purged"`
	CreatedAt  string  `bun:"created_at"`
	UpdatedAt  string  `bun:"updated_at"`
	Seq        int64   `bun:"seq"`
}

const messageColumns = `id, tenant_id, user_id, kind, status, sender, reply_to, recipients, subject, transport, mailbox_id,
	attempts, last_error, header_id, refused, resolution, purged, created_at, updated_at, seq`

// Message reads one message (ErrNotFound when none).
func (r *Reader) Message(ctx context.Context, id string) (MessageRow, error) {
	var rows []MessageRow
	if err := r.scan(ctx, &rows, `SELECT `+messageColumns+` FROM rm_messages WHERE id = ?`, id); err != nil {
		return MessageRow{}, err
	}
	if len(rows) == 0 {
		return MessageRow{}, ErrNotFound
	}
	return rows[0], nil
}

// MessageFilter selects messages of a tenant, newest first.
type MessageFilter struct {
	TenantID string
	UserID   string // set: only this user's messages
	Status   string // set: only messages in this status
	Before   int64  // set (> 0): only messages older than this seq (a cursor)
}

// Messages reads up to limit messages, newest first.
func (r *Reader) Messages(ctx context.Context, f MessageFilter, limit int) ([]MessageRow, error) {
	q := `SELECT ` + messageColumns + ` FROM rm_messages WHERE tenant_id = ?`
	args := []any{f.TenantID}
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Before > 0 {
		q += ` AND seq < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit)
	var rows []MessageRow
	err := r.db.NewRaw(q, args...).Scan(ctx, &rows)
	return rows, err
}

// CountMessages counts the messages the filter keeps, cursor aside (the
// connection's totalCount).
func (r *Reader) CountMessages(ctx context.Context, f MessageFilter) (int, error) {
	q := `SELECT count(*) FROM rm_messages WHERE tenant_id = ?`
	args := []any{f.TenantID}
	if f.UserID != "" {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	var n []int
	if err := r.db.NewRaw(q, args...).Scan(ctx, &n); err != nil || len(n) == 0 {
		return 0, err
	}
	return n[0], nil
}
