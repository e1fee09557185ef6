package projections

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/uptrace/bun"

	"github.com/absender/absender/domain/account"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/maildomain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
)

// Messages is the messages read model (SPEC §4 Message): status, attempt
// log and, for display, next_attempt_at. The delivery workers' schedule is
// not here: it is package saga's own table.
type Messages struct{}

// Name is the consumer group.
func (Messages) Name() string { return "messages" }

// Tables of the messages read model.
func (Messages) Tables() []string { return []string{"rm_messages", "rm_message_attempts"} }

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

// messageApplies is the messages read model's dispatch table.
var messageApplies = newApplyTable(applyMessage())

// Apply updates the message an event belongs to.
func (Messages) Apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	return messageApplies.apply(ctx, tx, rec)
}

// Applies lists the event types the messages read model applies.
func (Messages) Applies() []string { return messageApplies.names() }

// Ignores lists the event types the messages read model leaves alone on
// purpose: Handles lets only message events through.
func (Messages) Ignores() map[string]string {
	return merged(
		ignoring("configuration, not a message", system.Events()...), ignoring("configuration, not a message", tenant.Events()...),
		ignoring("configuration, not a message", login.Events()...), ignoring("configuration, not a message", user.Events()...),
		ignoring("configuration, not a message", group.Events()...), ignoring("configuration, not a message", mailbox.Events()...),
		ignoring("configuration, not a message", token.Events()...), ignoring("a connection check sends no message", check.Events()...),
		ignoring("hosted accounts and mail domains, not a message (issue 15)", account.Events()...),
		ignoring("hosted accounts and mail domains, not a message (issue 15)", maildomain.Events()...),
	)
}

// applyMessage applies the message aggregate (the send saga's events) to
// rm_messages and rm_message_attempts.
func applyMessage() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageQueued) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
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
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.TransportResolved) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			r := e.Resolution
			return tx.Exec(ctx, `UPDATE rm_messages SET transport = ?, mailbox_id = ?, resolution = ?, updated_at = ?,
					next_attempt_at = CASE WHEN status = 'QUEUED' THEN ? ELSE next_attempt_at END WHERE id = ?`,
				r.Transport.String(), nullString(r.MailboxID), jsonText(r), at, at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.DeliveryAttempted) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			if err := tx.Exec(ctx, `INSERT INTO rm_message_attempts (message_id, number, at, transport, outcome)
					VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id, number) DO NOTHING`,
				e.MessageID, e.Attempt, at, e.Transport.String(), OutcomePending); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, attempts = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
				string(message.StatusSending), e.Attempt, at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageSent) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			refused := make([]string, len(e.Refused))
			for i, r := range e.Refused {
				refused[i] = r.Recipient
			}
			if err := endAttempt(ctx, tx, e.MessageID, e.Attempt, OutcomeSent, e.Code, e.Reply); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, header_id = ?, refused = ?, last_error = NULL, updated_at = ?,
					next_attempt_at = NULL WHERE id = ?`,
				string(message.StatusSent), e.HeaderID, jsonText(refused), at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.DeliveryFailed) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			if err := endAttempt(ctx, tx, e.MessageID, e.Attempt, failureOutcome(e.Reason, OutcomeTemporary), e.Code, e.Reason); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, last_error = ?, updated_at = ?, next_attempt_at = ? WHERE id = ?`,
				string(message.StatusRetrying), e.Reason, at, e.RetryAt.UTC().Format(TimeFormat), e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageFailed) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			if err := endAttempt(ctx, tx, e.MessageID, e.Attempts, failureOutcome(e.Reason, OutcomeFailed), e.Code, e.Reason); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, attempts = ?, last_error = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
				string(message.StatusFailed), e.Attempts, e.Reason, at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageRejected) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			// An attempt without outcome before the rejection was interrupted.
			if err := tx.Exec(ctx, `UPDATE rm_message_attempts SET outcome = ? WHERE message_id = ? AND outcome = ?`,
				OutcomeInterrupted, e.MessageID, OutcomePending); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, last_error = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
				string(message.StatusRejected), string(e.Code)+": "+e.Reason, at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageCancelled) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			return tx.Exec(ctx, `UPDATE rm_messages SET status = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
				string(message.StatusCancelled), at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageRetryRequested) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			return tx.Exec(ctx, `UPDATE rm_messages SET updated_at = ?, next_attempt_at = ? WHERE id = ? AND status = 'RETRYING'`,
				at, at, e.MessageID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e message.MessageContentPurged) error {
			at := rec.RecordedAt.UTC().Format(TimeFormat)
			return tx.Exec(ctx, `UPDATE rm_messages SET purged = ?, updated_at = ? WHERE id = ?`, true, at, e.MessageID)
		}),
	}
}

// The outcomes of an attempt in the attempt log (SPEC §4 DeliveryAttempt).
const (
	OutcomePending     = "PENDING"           // under way, no outcome yet
	OutcomeSent        = "SENT"              // the server accepted the message
	OutcomeTemporary   = "TEMPORARY_FAILURE" // failed; another attempt follows
	OutcomeInterrupted = "INTERRUPTED"       // no outcome was recorded (a crash); it may have been sent
	OutcomeFailed      = "FAILED"            // failed and ended the message: permanent, or the last attempt
)

// interruptedPrefix starts the reason the saga records for an attempt
// without outcome (domain/message: State.Attempt).
const interruptedPrefix = "interrupted"

func failureOutcome(reason, otherwise string) string {
	if len(reason) >= len(interruptedPrefix) && reason[:len(interruptedPrefix)] == interruptedPrefix {
		return OutcomeInterrupted
	}
	return otherwise
}

// endAttempt records the outcome of attempt n, if it is still without one.
func endAttempt(ctx context.Context, tx Tx, id string, n int, outcome string, code int, detail string) error {
	var c *int
	if code != 0 {
		c = &code
	}
	return tx.Exec(ctx, `UPDATE rm_message_attempts SET outcome = ?, smtp_code = ?, detail = ? WHERE message_id = ? AND number = ? AND outcome = ?`,
		outcome, c, detail, id, n, OutcomePending)
}

// MessageRow is one message of the read model.
type MessageRow struct {
	ID          string  `bun:"id"`
	TenantID    string  `bun:"tenant_id"`
	UserID      *string `bun:"user_id"`
	Kind        string  `bun:"kind"`
	Status      string  `bun:"status"`
	Sender      string  `bun:"sender"`
	ReplyTo     *string `bun:"reply_to"`
	Recipients  string  `bun:"recipients"`
	Subject     string  `bun:"subject"`
	Transport   *string `bun:"transport"`
	MailboxID   *string `bun:"mailbox_id"`
	Attempts    int     `bun:"attempts"`
	LastError   *string `bun:"last_error"`
	HeaderID    *string `bun:"header_id"`
	Refused     string  `bun:"refused"`
	Resolution  *string `bun:"resolution"`
	Purged      bool    `bun:"purged"`
	CreatedAt   string  `bun:"created_at"`
	UpdatedAt   string  `bun:"updated_at"`
	Seq         int64   `bun:"seq"`
	NextAttempt *string `bun:"next_attempt_at"`
}

const messageColumns = `id, tenant_id, user_id, kind, status, sender, reply_to, recipients, subject, transport, mailbox_id,
	attempts, last_error, header_id, refused, resolution, purged, created_at, updated_at, seq, next_attempt_at`

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

// AttemptRow is one attempt of a message's attempt log.
type AttemptRow struct {
	MessageID string  `bun:"message_id"`
	Number    int     `bun:"number"`
	At        string  `bun:"at"`
	Transport string  `bun:"transport"`
	Outcome   string  `bun:"outcome"`
	SMTPCode  *int    `bun:"smtp_code"`
	Detail    *string `bun:"detail"`
}

// Attempts reads a message's attempt log, first attempt first.
func (r *Reader) Attempts(ctx context.Context, messageID string) ([]AttemptRow, error) {
	var rows []AttemptRow
	err := r.scan(ctx, &rows, `SELECT message_id, number, at, transport, outcome, smtp_code, detail FROM rm_message_attempts
		WHERE message_id = ? ORDER BY number`, messageID)
	return rows, err
}

// MessageFilter selects messages, newest first.
type MessageFilter struct {
	TenantID string // set: only this tenant's messages; empty: every message (incl. system test mails)
	UserID   string // set: only this user's messages
	Status   string // set: only messages in this status
	Kind     string // set: only messages of this kind
	Before   int64  // set (> 0): only messages older than this seq (a cursor)
}

func (f MessageFilter) where(withCursor bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.TenantID != "" {
		add(`tenant_id = ?`, f.TenantID)
	}
	if f.UserID != "" {
		add(`user_id = ?`, f.UserID)
	}
	if f.Status != "" {
		add(`status = ?`, f.Status)
	}
	if f.Kind != "" {
		add(`kind = ?`, f.Kind)
	}
	if withCursor && f.Before > 0 {
		add(`seq < ?`, f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
}

// Messages reads up to limit messages, newest first (keyset on seq).
func (r *Reader) Messages(ctx context.Context, f MessageFilter, limit int) ([]MessageRow, error) {
	where, args := f.where(true)
	var rows []MessageRow
	err := r.db.NewRaw(`SELECT `+messageColumns+` FROM rm_messages`+where+` ORDER BY seq DESC LIMIT ?`, append(args, limit)...).Scan(ctx, &rows)
	return rows, err
}

// FinishedMessages returns those of ids whose message is finished (SENT,
// FAILED, REJECTED or CANCELLED: message.Status.Final), in no order.
func (r *Reader) FinishedMessages(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var done []string
	err := r.db.NewRaw(`SELECT id FROM rm_messages WHERE id IN (?) AND status IN (?)`, bun.In(ids),
		bun.In([]string{string(message.StatusSent), string(message.StatusFailed), string(message.StatusRejected), string(message.StatusCancelled)})).Scan(ctx, &done)
	return done, err
}

// CountMessages counts the messages f selects, whatever its cursor.
func (r *Reader) CountMessages(ctx context.Context, f MessageFilter) (int, error) {
	where, args := f.where(false)
	var n int
	err := r.db.NewRaw(`SELECT COUNT(*) FROM rm_messages`+where, args...).Scan(ctx, &n)
	return n, err
}
