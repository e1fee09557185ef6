package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/eventstore"
)

func runHistory(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var db dbConfig
	var tenant, at string
	fs := newFlagSet("history", "Print a tenant's configuration and every user's From and Reply-To options as they were at a time,\n"+
		"as JSON, replayed from the events (the same rules as the live API). A tenant id that was never created is an\n"+
		"error (exit code 1); a time before the tenant was created answers \"exists\": false.")
	db.register(fs)
	fs.StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	fs.StringVar(&at, "at", "", "the time, RFC 3339 (default: now)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if tenant == "" {
		return usageError{"history: --tenant is required"}
	}
	when := time.Now()
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return usageError{"history: --at: " + at + " is not an RFC 3339 time"}
		}
		when = t
	}
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := tenantKnown(ctx, srv.Store, tenant); err != nil {
		return err
	}
	m, err := srv.History.At(ctx, tenant, when)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(m.Report(tenant, when))
}

// tenantKnown refuses a tenant id the event log has never seen (exit
// code 1): history and events export would otherwise answer an empty
// report or nothing, as if all were well. A tenant that existed once, also
// one asked for at a time before it was created, is known.
func tenantKnown(ctx context.Context, store *eventstore.Store, tenantID string) error {
	recs, err := store.Load(ctx, app.StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID}))
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("no tenant %q: no tenant with this id was ever created (absender events export shows the TenantCreated events)", tenantID)
	}
	return nil
}
