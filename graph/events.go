package graph

import (
	"context"
	"time"

	"github.com/absender/absender/authz"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/graph/model"
)

// streamEvents sends every event after from (of one tenant, or all) in
// commit order until ctx ends, waking on new appends. It re-checks the
// caller's token and permission at every wake-up: a blocked (R20) or
// demoted (R19) user's or a revoked token's subscription is closed.
func (r *Resolver) streamEvents(ctx context.Context, tenant string, from eventstore.Position, out chan<- *model.EventEnvelope) {
	defer close(out)
	tok, _ := ctx.Value(tokenKey{}).(string)
	for {
		// R20: a blocked user's or revoked token's subscription ends at
		// the next change (the principal is cached until one happens).
		if tok != "" {
			// Demoted since (R19) counts like blocked (R20).
			p, err := r.auth.Authenticate(ctx, tok)
			if err != nil || authz.Check(p, authz.OpEvents, authz.Target{TenantID: tenant}) != nil {
				return
			}
		}
		wake := r.deps.Store.Notify()
		// Raw: an envelope is built from the stored data (secrets
		// stripped), so an event this version cannot decode passes as it
		// is instead of ending every subscription (R35).
		recs, err := r.deps.Store.ReadAllRaw(ctx, from, 500)
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

// Envelope is the GraphQL form of envelope.Envelope.
func Envelope(rec eventstore.Record) *model.EventEnvelope {
	e := envelope.From(rec)
	return &model.EventEnvelope{
		ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, StreamType: e.StreamType, StreamID: e.StreamID,
		StreamVersion: int(e.StreamVersion), Position: e.Position, At: e.At, TenantID: optional(e.TenantID), Actor: e.Actor,
		CorrelationID: optional(e.CorrelationID), CausationID: optional(e.CausationID), Data: string(e.Data),
	}
}
