package graph

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/graph/model"
)

// streamEvents sends every event after from (of one tenant, or all) in
// commit order until ctx ends, waking on new appends. It re-checks the
// caller's token at every wake-up: a blocked user's or revoked token's
// subscription is closed (R20).
func (r *Resolver) streamEvents(ctx context.Context, tenant string, from eventstore.Position, out chan<- *model.EventEnvelope) {
	defer close(out)
	tok, _ := ctx.Value(tokenKey{}).(string)
	for {
		// R20: a blocked user's or revoked token's subscription ends at
		// the next change (the principal is cached until one happens).
		if tok != "" {
			if p, err := r.auth.Authenticate(ctx, tok); err != nil || !p.Authenticated() {
				return
			}
		}
		wake := r.deps.Store.Notify()
		recs, err := r.deps.Store.ReadAll(ctx, from, 500)
		if err != nil {
			if ctx.Err() == nil {
				r.deps.Log.ErrorContext(ctx, "events subscription", "err", err)
			}
			return
		}
		for _, rec := range recs {
			from = rec.Position
			if tenant != "" && rec.Metadata.TenantID != tenant {
				continue
			}
			select {
			case out <- Envelope(rec):
			case <-ctx.Done():
				return
			}
		}
		if len(recs) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

// Envelope is the public form of an event: metadata and data with secrets
// removed (SPEC §3).
func Envelope(rec eventstore.Record) *model.EventEnvelope {
	env := &model.EventEnvelope{
		ID: rec.ID, Type: rec.Type, SchemaVersion: rec.SchemaVersion, StreamType: rec.StreamType, StreamID: rec.StreamID,
		StreamVersion: int(rec.Version), Position: strconv.FormatInt(rec.Position.Offset, 10), At: rec.RecordedAt.UTC(),
		TenantID: optional(rec.Metadata.TenantID), Actor: rec.Metadata.Actor,
		CorrelationID: optional(rec.Metadata.CorrelationID), CausationID: optional(rec.Metadata.CausationID),
		Data: string(StripSecrets(rec.Data)),
	}
	return env
}

// secretFields are removed from event data wherever they appear.
var secretFields = map[string]bool{"password": true, "graphClientSecret": true, "secretHash": true}

// StripSecrets removes secret fields from event JSON at any depth.
func StripSecrets(data json.RawMessage) json.RawMessage {
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
