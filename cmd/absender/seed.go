package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/absender/absender/seed"
	"github.com/absender/absender/server"
)

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	sz := seed.BenchmarkSizes
	var workers int
	fs := newFlagSet("seed", "Create data through the normal commands in a database that exists (start absender serve once, or run\n"+
		"absender migrate up).\n\n"+
		"seed demo: a small example — a system mail server, the tenant celanio GmbH with the mailbox\n"+
		"welcome@celanio.test (own SMTP server) and the employee mustermann — using reserved names only (example.com,\n"+
		"*.test, servers under *.invalid), so nothing reaches a real server. It may run again and again: it adds what\n"+
		"is missing and changes nothing that exists (a system server configured by anyone stays as it is; the tenant\n"+
		"is found by its name, the mailbox by its address, the user by its login name). It prints what it created and\n"+
		"found, and two new tokens on every run: SYSTEM_TOKEN (a system administrator) and USER_TOKEN (mustermann).\n\n"+
		"seed benchmark: one tenant of 10,000 users, 2,000 mailboxes, 50,000 grants by default.")
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
		return seedDemo(ctx, srv, stdout)
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

// seedDemo runs seed demo: it brings the read models up to the event log
// (seed demo finds what exists through them), adds what is missing, waits
// for the read models again and prints what it created, what it found and
// the new tokens.
func seedDemo(ctx context.Context, srv *server.Server, stdout io.Writer) error {
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go srv.Store.Listen(runCtx)
	go func() { done <- srv.Runner.Run(runCtx, nil) }()
	defer func() {
		stop()
		<-done
	}()
	head, err := srv.Store.Head(ctx)
	if err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = srv.Runner.WaitFor(waitCtx, head)
	cancel()
	if err != nil {
		return fmt.Errorf("seed demo: the read models did not catch up with the event log (see absender projections --help): %w", err)
	}
	name := "seed demo " + time.Now().UTC().Format(time.RFC3339)
	d, err := seed.EnsureDemo(ctx, srv.App, srv.Reader, name)
	if err != nil {
		return err
	}
	// The read models hold the new users and tokens before it ends, so a
	// running server takes the tokens at once.
	if head, err = srv.Store.Head(ctx); err != nil {
		return err
	}
	waitCtx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	err = srv.Runner.WaitFor(waitCtx, head)
	cancel()
	if err != nil {
		return fmt.Errorf("seed demo: done, but the read models did not catch up (see absender projections --help): %w", err)
	}
	for _, s := range d.Steps {
		state := "found  "
		if s.Created {
			state = "created"
		}
		id := s.ID
		if id != "" {
			id += "  "
		}
		fmt.Fprintf(stdout, "%-13s  %s  %s%s\n", s.Kind, state, id, s.What)
	}
	fmt.Fprintf(stdout, "\nNew tokens, named %q (shown once; tokens of earlier runs stay valid until revoked):\n", name)
	fmt.Fprintf(stdout, "# a system administrator: every tenant and the system settings\nSYSTEM_TOKEN=%s\n", d.SystemToken)
	fmt.Fprintf(stdout, "# %s, an employee of %s: his own sender and reply-to options, sending\nUSER_TOKEN=%s\n", seed.DemoLoginName, seed.DemoTenantName, d.UserToken)
	return nil
}
