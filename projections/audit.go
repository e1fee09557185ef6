package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"

	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
)

// Audit is the audit log: one entry per event with position, time, actor,
// tenant, action, stream and the changed fields (from → to). It remembers
// each stream's last known field values to tell what changed. Secrets are
// shown as changed, never as values (SPEC §3).
type Audit struct{}

// Name is the consumer group.
func (Audit) Name() string { return "audit" }

// FieldChange is one changed field of an audit entry.
type FieldChange struct {
	Field string  `json:"field"`
	From  *string `json:"from"`
	To    *string `json:"to"`
}

// SecretShown is what the audit log shows in place of a secret's value.
const SecretShown = "(secret)"

// isSecret tells the fields whose values never appear: encrypted server
// secrets and token hashes.
func isSecret(field string) bool {
	return envelope.IsSecret(field[strings.LastIndexByte(field, '.')+1:])
}

func hasPrefix(fields map[string]*string, prefix string) bool {
	for f := range fields {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// clearsSettings tells the event types (without version) that remove a
// stream's server settings.
func clearsSettings(typ string) bool {
	return strings.HasSuffix(typ, "SettingsRemoved") || typ == "TenantServerRemoved"
}

// replacesSettings tells the event types whose settings, when they carry
// any, replace the stream's earlier settings whole.
func replacesSettings(typ string) bool { return strings.HasSuffix(typ, "Configured") }

// Apply records one event.
func (Audit) Apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	fields := map[string]*string{}
	if err := flatten("", rec.Data, fields); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	before, err := streamFields(ctx, tx, rec.StreamID)
	if err != nil {
		return err
	}
	// A removal clears what it removes; new settings replace the old ones
	// whole (fields they lack, like a dropped password, are gone, R4).
	switch {
	case clearsSettings(rec.Type) || replacesSettings(rec.Type) && hasPrefix(fields, "settings."):
		for f := range before {
			if strings.HasPrefix(f, "settings.") {
				if _, set := fields[f]; !set {
					fields[f] = nil
				}
			}
		}
	case strings.HasSuffix(rec.Type, "Deleted") || strings.HasSuffix(rec.Type, "Removed") || strings.HasSuffix(rec.Type, "Revoked"):
		// Keep the memory: the entry itself says what happened.
	}
	var changes []FieldChange
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	ownID := rec.StreamID[strings.IndexByte(rec.StreamID, '-')+1:]
	for _, f := range names {
		to, from := fields[f], before[f]
		switch {
		case strings.HasSuffix(f, "Key"), f == "tenantId", to != nil && *to == ownID:
			continue // derived comparison keys and the stream's own ids say nothing new
		case strings.HasSuffix(f, "Id") || strings.HasPrefix(f, "revoked"):
			// A reference (the mailbox granted, the group joined): shown,
			// not remembered, so the next one is not read as a replacement.
			changes = append(changes, FieldChange{Field: f, To: to})
			continue
		}
		if eq(from, to) {
			continue
		}
		ch := FieldChange{Field: f, From: from, To: to}
		if isSecret(f) {
			ch.From, ch.To = shownSecret(from), shownSecret(to)
		}
		changes = append(changes, ch)
		before[f] = to
		if err := tx.Exec(ctx, `INSERT INTO rm_audit_fields (stream_id, field, value) VALUES (?, ?, ?)
			ON CONFLICT (stream_id, field) DO UPDATE SET value = excluded.value`, rec.StreamID, f, to); err != nil {
			return err
		}
	}
	if changes == nil {
		changes = []FieldChange{}
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	return tx.Exec(ctx, `INSERT INTO rm_audit (position, at, actor, tenant_id, action, stream_id, event_id, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING`,
		rec.Position.Offset, rec.RecordedAt.UTC().Format(TimeFormat), rec.Metadata.Actor, nullString(rec.Metadata.TenantID),
		rec.Type, rec.StreamID, rec.ID, string(b))
}

// streamFields is what the audit log remembers of a stream's fields: from
// the table, or during a rebuild from memory (the tables started empty).
func streamFields(ctx context.Context, tx Tx, streamID string) (map[string]*string, error) {
	if tx.batch != nil {
		if m, ok := tx.batch.fields[streamID]; ok {
			return m, nil
		}
		if !tx.batch.live && !tx.batch.stale[streamID] {
			m := map[string]*string{}
			tx.batch.fields[streamID] = m
			return m, nil
		}
		if tx.batch.live && tx.batch.streams != nil {
			// A live batch reads the fields of all its streams at once.
			streams := tx.batch.streams()
			tx.batch.streams = nil
			if err := prefetchFields(ctx, tx, streams); err != nil {
				return nil, err
			}
			if m, ok := tx.batch.fields[streamID]; ok {
				return m, nil
			}
		}
	}
	var stored []struct {
		Field string  `bun:"field"`
		Value *string `bun:"value"`
	}
	if err := tx.Scan(ctx, &stored, `SELECT field, value FROM rm_audit_fields WHERE stream_id = ?`, streamID); err != nil {
		return nil, err
	}
	before := make(map[string]*string, len(stored))
	for _, f := range stored {
		before[f.Field] = f.Value
	}
	if tx.batch != nil { // remembered again from here on
		delete(tx.batch.stale, streamID)
		tx.batch.fields[streamID] = before
	}
	return before, nil
}

// prefetchFields remembers the stored fields of streams (in a live batch,
// before any of them was written in it).
func prefetchFields(ctx context.Context, tx Tx, streams []string) error {
	for len(streams) > 0 {
		chunk := streams[:min(len(streams), 500)]
		streams = streams[len(chunk):]
		var stored []struct {
			StreamID string  `bun:"stream_id"`
			Field    string  `bun:"field"`
			Value    *string `bun:"value"`
		}
		if err := tx.Scan(ctx, &stored, `SELECT stream_id, field, value FROM rm_audit_fields WHERE stream_id IN (?)`, bun.In(chunk)); err != nil {
			return err
		}
		for _, id := range chunk {
			if _, ok := tx.batch.fields[id]; !ok {
				tx.batch.fields[id] = map[string]*string{}
			}
		}
		for _, f := range stored {
			tx.batch.fields[f.StreamID][f.Field] = f.Value
		}
	}
	return nil
}

func eq(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func shownSecret(v *string) *string {
	if v == nil || *v == "" {
		return nil
	}
	s := SecretShown
	return &s
}

// flatten turns event JSON into dotted fields with string values; arrays
// stay JSON. Secret values are replaced by a digest of their ciphertext at
// once, so not even ciphertext reaches the audit tables.
func flatten(prefix string, data json.RawMessage, out map[string]*string) error {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	walk(prefix, v, out)
	return nil
}

func walk(prefix string, v any, out map[string]*string) {
	set := func(s string) {
		if isSecret(prefix) {
			sum := sha256.Sum256([]byte(s))
			s = hex.EncodeToString(sum[:8])
		}
		out[prefix] = &s
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			walk(key, val, out)
		}
	case nil:
		out[prefix] = nil
	case string:
		set(x)
	case json.Number:
		set(x.String())
	case bool:
		set(fmt.Sprint(x))
	default:
		b, _ := json.Marshal(x)
		set(string(b))
	}
}
