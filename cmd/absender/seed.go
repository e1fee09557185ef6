package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/absender/absender/seed"
)

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	sz := seed.BenchmarkSizes
	var workers int
	fs := newFlagSet("seed", "Create data through the normal commands: seed demo (seed 001's celanio GmbH example, with a user token)\n"+
		"or seed benchmark (one tenant of 10,000 users, 2,000 mailboxes, 50,000 grants by default).")
	db.register(fs)
	fs.IntVar(&sz.Users, "users", sz.Users, "benchmark: users")
	fs.IntVar(&sz.Mailboxes, "mailboxes", sz.Mailboxes, "benchmark: mailboxes")
	fs.IntVar(&sz.Grants, "grants", sz.Grants, "benchmark: user grants")
	fs.IntVar(&sz.Groups, "groups", sz.Groups, "benchmark: groups of 50 members")
	fs.IntVar(&workers, "workers", 8, "benchmark: concurrent commands")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) != 1 || (fs.args[0] != "demo" && fs.args[0] != "benchmark") {
		return usageError{"seed: say demo or benchmark (see absender seed --help)"}
	}
	srv, closeDB, err := db.server(ctx, true)
	if err != nil {
		return err
	}
	defer closeDB()
	switch fs.args[0] {
	case "demo":
		d, err := seed.MakeDemo(ctx, srv.App)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant  %s (celanio GmbH)\nmailbox %s (celanio GmbH <welcome@celanio.com>, own SMTP settings)\nuser    %s (Mustermann, welcome@celanio.com)\ntoken   %s\n",
			d.TenantID, d.MailboxID, d.UserID, d.UserToken)
	case "benchmark":
		start := time.Now()
		t, err := seed.Benchmark(ctx, srv.App, sz, workers, func(n int64) {
			fmt.Fprintf(stderr, "seed: %d commands, %.0f/s\n", n, float64(n)/time.Since(start).Seconds())
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s: %d users, %d mailboxes, %d groups in %s\n", t.ID, len(t.Users), len(t.Mailboxes), len(t.Groups), time.Since(start).Round(time.Second))
	}
	return nil
}
