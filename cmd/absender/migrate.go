package main

import (
	"context"
	"fmt"
	"io"

	"github.com/absender/absender/migrations"
)

func runMigrate(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var db dbConfig
	fs := newFlagSet("migrate", "Apply pending migrations (migrate up) or list them (migrate status). Re-running up is a no-op.\n"+
		"migrate up creates a SQLite database that does not exist (as serve does); on PostgreSQL the database must\n"+
		"exist and up creates the schema in it. migrate status creates nothing: it refuses a database that does not exist.")
	db.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) != 1 || (fs.args[0] != "up" && fs.args[0] != "status") {
		return usageError{"migrate: say up or status (see absender migrate --help)"}
	}
	// Only up creates the database (SPEC §5).
	conn, err := db.open(ctx, fs.args[0] == "up")
	if err != nil {
		return err
	}
	defer conn.Close()
	switch fs.args[0] {
	case "up":
		applied, err := migrations.Up(ctx, conn)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		}
		for _, name := range applied {
			fmt.Fprintln(stdout, "applied", name)
		}
	case "status":
		list, err := migrations.List(ctx, conn)
		if err != nil {
			return err
		}
		for _, s := range list {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %s\n", state, s.Name)
		}
	}
	return nil
}
