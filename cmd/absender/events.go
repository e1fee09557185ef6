package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/absender/absender/envelope"
)

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	var since, until, tenant string
	var follow bool
	fs := newFlagSet("events", "Export events: events export writes every event as one JSON line (the public envelope of\n"+
		"docs/events.md, secrets removed), oldest first, to standard output.")
	db.register(fs)
	fs.StringVar(&since, "since", "", "start after this position (a number) or at this time (RFC 3339)")
	fs.StringVar(&until, "until", "", "end at this position (inclusive) or before this time (RFC 3339)")
	fs.StringVar(&tenant, "tenant", "", "only this tenant's events (a tenant id that was never created is an error)")
	fs.BoolVar(&follow, "follow", false, "after the last event, wait for new ones until interrupted")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) != 1 || fs.args[0] != "export" {
		return usageError{"events: say export (see absender events --help)"}
	}
	var f envelope.Filter
	var err error
	if f.After, f.Since, err = positionOrTime(since); err != nil {
		return usageError{"events export: --since: " + err.Error()}
	}
	if f.Until, f.UntilTime, err = positionOrTime(until); err != nil {
		return usageError{"events export: --until: " + err.Error()}
	}
	f.TenantID, f.Follow = tenant, follow
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if tenant != "" {
		if err := tenantKnown(ctx, srv.Store, tenant); err != nil {
			return err
		}
	}
	if follow {
		go srv.Store.Listen(ctx)
	}
	bar := newProgress(stderr, "export")
	var progress func(int64, int64)
	if bar.terminal && !follow {
		progress = bar.update
	}
	start := time.Now()
	n, err := envelope.Export(ctx, srv.Store, stdout, f, progress)
	bar.finish()
	if err != nil && ctx.Err() == nil {
		return err
	}
	if bar.terminal {
		fmt.Fprintf(stderr, "exported %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// positionOrTime reads a position (a non-negative integer) or an RFC 3339
// time; "" is neither.
func positionOrTime(s string) (int64, time.Time, error) {
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, time.Time{}, fmt.Errorf("%q: a position is not negative", s)
		}
		return n, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%q is neither a position nor an RFC 3339 time", s)
	}
	return 0, t, nil
}
