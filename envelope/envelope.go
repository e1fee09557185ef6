// Package envelope is the public form of an event, the same for every
// consumer outside the process: the GraphQL events subscription, the NATS
// JetStream fan-out and `absender events export`. Secrets (SMTP passwords,
// Graph client secrets, token hashes) are removed from the data wherever
// they appear (SPEC §3). docs/events.md documents it.
package envelope

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/absender/absender/eventstore"
)

// Envelope is one event for analytics consumers. Position is the global
// position as a decimal string; ID is the deduplication key.
type Envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schemaVersion"`
	StreamType    string          `json:"streamType"`
	StreamID      string          `json:"streamId"`
	StreamVersion int64           `json:"streamVersion"`
	Position      string          `json:"position"`
	At            time.Time       `json:"at"`
	TenantID      string          `json:"tenantId,omitempty"`
	Actor         string          `json:"actor"`
	CorrelationID string          `json:"correlationId,omitempty"`
	CausationID   string          `json:"causationId,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// From builds the envelope of a stored event, secrets removed.
func From(rec eventstore.Record) Envelope {
	return Envelope{
		ID: rec.ID, Type: rec.Type, SchemaVersion: rec.SchemaVersion, StreamType: rec.StreamType, StreamID: rec.StreamID,
		StreamVersion: rec.Version, Position: strconv.FormatInt(rec.Position.Offset, 10), At: rec.RecordedAt.UTC(),
		TenantID: rec.Metadata.TenantID, Actor: rec.Metadata.Actor, CorrelationID: rec.Metadata.CorrelationID,
		CausationID: rec.Metadata.CausationID, Data: StripSecrets(rec.Data),
	}
}

// secretFields are removed from event data wherever they appear.
var secretFields = map[string]bool{"password": true, "graphClientSecret": true, "secretHash": true, "passwordHash": true}

// secretNames are the secret fields' names as they appear quoted in JSON,
// for mayHoldSecret's quick look.
var secretNames = func() [][]byte {
	var names [][]byte
	for name := range secretFields {
		names = append(names, []byte(`"`+name+`"`))
	}
	return names
}()

// IsSecret reports whether a data field (its last name) holds a secret.
func IsSecret(name string) bool { return secretFields[name] }

// StripSecrets removes secret fields from event JSON at any depth; data
// that is not JSON becomes {} rather than leaking.
func StripSecrets(data json.RawMessage) json.RawMessage {
	if !mayHoldSecret(data) {
		return data // most events: nothing to strip, no need to re-encode
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(strip(v))
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// mayHoldSecret is a quick look for a secret field's name.
func mayHoldSecret(data []byte) bool {
	for _, name := range secretNames {
		if bytes.Contains(data, name) {
			return true
		}
	}
	return !json.Valid(data)
}

func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretFields[k] {
				delete(x, k)
				continue
			}
			x[k] = strip(val)
		}
	case []any:
		for i := range x {
			x[i] = strip(x[i])
		}
	}
	return v
}
