package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
)

func runToken(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var db dbConfig
	var name string
	var sysAdmin, auditor, mailServer bool
	fs := newFlagSet("token", "Issue an API token without a user: token issue --system-admin|--auditor|--mail-server --name NAME.\nThe token is printed once; only its SHA-256 hash is stored. It works at once, also on a running server.")
	db.register(fs)
	fs.StringVar(&name, "name", "", "what the token is for (required), e.g. \"ops laptop\"")
	fs.BoolVar(&sysAdmin, "system-admin", false, "a system administrator's token")
	fs.BoolVar(&auditor, "auditor", false, "an auditor's token (reads everything but secrets, changes nothing)")
	fs.BoolVar(&mailServer, "mail-server", false, "the data plane's token (routeInbound and inboundReceived only)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) != 1 || fs.args[0] != "issue" {
		return usageError{"token: say issue (see absender token --help)"}
	}
	var role domain.Role
	n := 0
	for _, c := range []struct {
		set  bool
		role domain.Role
	}{{sysAdmin, domain.RoleSystemAdmin}, {auditor, domain.RoleAuditor}, {mailServer, domain.RoleMailServer}} {
		if c.set {
			role = c.role
			n++
		}
	}
	if n != 1 {
		return usageError{"token issue: give exactly one of --system-admin, --auditor, --mail-server"}
	}
	if name == "" {
		return usageError{"token issue: --name is required"}
	}
	srv, closeDB, err := db.server(ctx, true)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = app.WithRequest(ctx, app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "cli"})
	tok, _, err := srv.App.Commands.Tokens.IssueForSystem(ctx, role, name)
	var derr *domain.Error
	if errors.As(err, &derr) && derr.Field != "" {
		return usageError{fmt.Sprintf("token issue: --%s: %s", derr.Field, derr.Message)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
