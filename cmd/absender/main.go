// Command absender is the control plane for outgoing e-mail: it keeps the
// mail configuration of a multi-tenant system as events and serves it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server: GraphQL API at /graphql, console at /, GraphiQL at /graphiql, /healthz, /readyz", runServe},
		{"migrate", "apply or list database migrations: migrate up|status", runMigrate},
		{"token", "issue an API token: token issue --system-admin|--auditor|--mail-server --name NAME", runToken},
		{"projections", "rebuild read models from the event log: projections rebuild [NAME]; re-apply parked events: projections retry-parked [NAME]", runProjections},
		{"events", "export events as JSON lines: events export [--since POSITION|TIME] [--until …] [--tenant ID] [--follow]", runEvents},
		{"history", "a tenant's configuration and option lists as of a time: history --tenant ID --at TIME", runHistory},
		{"seed", "create demo or benchmark data through the normal commands: seed demo|benchmark", runSeed},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var usage usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "absender:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "absender:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		return nil
	}
	switch args[0] {
	case "--version", "-version", "-v":
		// The same as absender version (SPEC §5).
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `absender — the control plane for outgoing e-mail in multi-tenant software.

Usage:
  absender <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every flag of serve and every global setting (--database-url, --secret-key-file,
--broker-url, --log-format, --log-level) also reads an environment variable:
--database-url is ABSENDER_DATABASE_URL, --listen is ABSENDER_LISTEN, and so on.
The arguments of a command (a token's role and name, an export's range, a tenant,
a time) are flags only. Only serve and migrate up create a database.
Run "absender <command> --help" for the flags of a command; "absender --version"
(or -v) prints the version.
`)
}

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("version", "print the version")
	if err := fs.parse(args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "absender", version)
	return nil
}
