package seed

import (
	"context"
	"fmt"
	"strings"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/projections"
)

// The demo uses reserved names only (RFC 2606, SPEC §5): addresses under
// example.com or *.test, server hosts under *.invalid, so a message sent
// through it reaches no real server.
const (
	DemoTenantName    = "celanio GmbH"
	DemoSystemHost    = "smtp.demo.invalid"
	DemoMailboxHost   = "smtp.celanio.invalid"
	DemoAddress       = "welcome@celanio.test"
	DemoLoginName     = "mustermann"
	demoSystemAddress = "noreply@example.com"
)

// Demo is what the demo made or found.
type Demo struct {
	TenantID, MailboxID, UserID string
	// Steps says, in order, what was created and what was found and left
	// as it was.
	Steps []DemoStep
	// SystemToken is a system administrator's API token, UserToken one of
	// the employee Mustermann; both are new on every run (shown once).
	SystemToken, UserToken string
}

// DemoStep is one thing of the demo: Kind (system server, tenant,
// mailbox, user), its ID (empty for the system server), whether this run
// created it, and what it is.
type DemoStep struct {
	Kind, ID string
	Created  bool
	What     string
}

// DemoFinder finds what an earlier run (or an administrator) made: the
// read models (*projections.Reader), caught up with the event log.
type DemoFinder interface {
	Tenants(ctx context.Context) ([]projections.TenantRow, error)
	UsersOfTenant(ctx context.Context, tenantID string) ([]projections.UserRow, error)
	MailboxesOfTenant(ctx context.Context, tenantID string) ([]projections.MailboxRow, error)
}

// MakeDemo creates seed 001's example in an empty database: a system
// server, the tenant "celanio GmbH" with the authenticated mailbox
// "celanio GmbH <welcome@celanio.test>", and the employee "Mustermann"
// whose e-mail is the same address (R15 decides how it shows).
func MakeDemo(ctx context.Context, svc *app.App) (Demo, error) {
	return EnsureDemo(ctx, svc, nil, "demo")
}

// EnsureDemo makes the demo idempotently (SPEC §5): it adds only what is
// missing and changes nothing that exists. A system server configured by
// anyone is left as it is; the tenant is found by its name, the mailbox by
// its address, the user by its login name (find nil: nothing exists yet).
// It issues a new system administrator token and a new token of the user
// on every run, named tokenName (tokens are shown once; earlier ones stay
// valid until revoked).
func EnsureDemo(ctx context.Context, svc *app.App, find DemoFinder, tokenName string) (Demo, error) {
	ctx = AsSystem(ctx)
	var d Demo
	step := func(kind, id string, created bool, what string) {
		d.Steps = append(d.Steps, DemoStep{Kind: kind, ID: id, Created: created, What: what})
	}
	sys, err := svc.Aggregates.System(ctx)
	if err != nil {
		return d, err
	}
	if sys.Configured() {
		step("system server", "", false, "configured before; left as it is")
	} else {
		if _, err := svc.Commands.System.ConfigureServer(ctx, app.ServerSettingsInput{Host: ptr(DemoSystemHost), Encryption: "STARTTLS",
			Auth: "PASSWORD", Username: ptr("absender"), Password: ptr("change-me"), SenderAddress: demoSystemAddress, SenderName: ptr("Absender")}); err != nil {
			return d, fmt.Errorf("seed demo: system server: %w", err)
		}
		step("system server", "", true, DemoSystemHost+", sender "+demoSystemAddress)
	}

	if find != nil {
		tenants, err := find.Tenants(ctx)
		if err != nil {
			return d, err
		}
		for _, t := range tenants {
			if t.Name == DemoTenantName {
				d.TenantID = t.ID
				break
			}
		}
	}
	if d.TenantID != "" {
		step("tenant", d.TenantID, false, DemoTenantName)
	} else {
		if d.TenantID, _, err = svc.Commands.Tenants.Create(ctx, DemoTenantName); err != nil {
			return d, fmt.Errorf("seed demo: tenant: %w", err)
		}
		step("tenant", d.TenantID, true, DemoTenantName)
	}

	mailboxWhat := DemoTenantName + " <" + DemoAddress + ">, own SMTP server " + DemoMailboxHost
	if find != nil {
		boxes, err := find.MailboxesOfTenant(ctx, d.TenantID)
		if err != nil {
			return d, err
		}
		for _, m := range boxes {
			if strings.EqualFold(m.Address, DemoAddress) {
				d.MailboxID = m.ID
				break
			}
		}
	}
	if d.MailboxID != "" {
		step("mailbox", d.MailboxID, false, DemoAddress)
	} else {
		if d.MailboxID, _, err = svc.Commands.Mailboxes.Add(ctx, d.TenantID, app.AddMailboxInput{Address: DemoAddress, DisplayName: DemoTenantName,
			Sender: true, ReplyTo: true, Settings: &app.ServerSettingsInput{Host: ptr(DemoMailboxHost), Encryption: "TLS", Auth: "PASSWORD",
				Username: ptr(DemoAddress), Password: ptr("change-me-too"), SenderAddress: DemoAddress, SenderName: ptr(DemoTenantName)}}); err != nil {
			return d, fmt.Errorf("seed demo: mailbox: %w", err)
		}
		step("mailbox", d.MailboxID, true, mailboxWhat)
	}

	if find != nil {
		users, err := find.UsersOfTenant(ctx, d.TenantID)
		if err != nil {
			return d, err
		}
		for _, u := range users {
			if strings.EqualFold(u.LoginName, DemoLoginName) {
				d.UserID = u.ID
				break
			}
		}
	}
	userWhat := DemoLoginName + ": Mustermann <" + DemoAddress + ">, employee"
	if d.UserID != "" {
		step("user", d.UserID, false, DemoLoginName)
	} else {
		if d.UserID, _, err = svc.Commands.Users.Create(ctx, d.TenantID, DemoLoginName, "Mustermann", DemoAddress, domain.RoleEmployee); err != nil {
			return d, fmt.Errorf("seed demo: user %s (login names are unique across tenants): %w", DemoLoginName, err)
		}
		step("user", d.UserID, true, userWhat)
	}

	if d.SystemToken, _, err = svc.Commands.Tokens.IssueForSystem(ctx, domain.RoleSystemAdmin, tokenName); err != nil {
		return d, fmt.Errorf("seed demo: system administrator token: %w", err)
	}
	if d.UserToken, _, err = svc.Commands.Tokens.IssueForUser(ctx, d.UserID, tokenName); err != nil {
		return d, fmt.Errorf("seed demo: token of %s: %w", DemoLoginName, err)
	}
	return d, nil
}
