package main

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

func runHistory(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var db dbConfig
	var tenant, at string
	fs := newFlagSet("history", "Print a tenant's configuration and every user's From and Reply-To options as they were at a time,\n"+
		"as JSON, replayed from the events (the same rules as the live API).")
	db.register(fs)
	fs.StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	fs.StringVar(&at, "at", "", "the time, RFC 3339 (default: now)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if tenant == "" {
		return usageError{"history: --tenant (ABSENDER_TENANT) is required"}
	}
	when := time.Now()
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return usageError{"--at (ABSENDER_AT): " + at + " is not an RFC 3339 time"}
		}
		when = t
	}
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	m, err := srv.History.At(ctx, tenant, when)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(m.Report(tenant, when))
}
