package seed

import (
	"context"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
)

// Demo is what the demo made.
type Demo struct {
	TenantID, MailboxID, UserID string
	// UserToken is an API token of the user (shown once).
	UserToken string
}

// MakeDemo creates seed 001's example: a system server, the tenant
// "celanio GmbH" with the authenticated mailbox
// "celanio GmbH <welcome@celanio.com>", and the employee "Mustermann"
// whose e-mail is the same address (R15 decides how it shows).
func MakeDemo(ctx context.Context, svc *app.Service) (Demo, error) {
	ctx = AsSystem(ctx)
	var d Demo
	if _, err := svc.ConfigureSystemServer(ctx, app.ServerSettingsInput{Host: ptr("smtp.example.com"), Encryption: "STARTTLS",
		Auth: "PASSWORD", Username: ptr("absender"), Password: ptr("change-me"), SenderAddress: "noreply@example.com", SenderName: ptr("Absender")}); err != nil {
		return d, err
	}
	var err error
	if d.TenantID, _, err = svc.CreateTenant(ctx, "celanio GmbH"); err != nil {
		return d, err
	}
	if d.MailboxID, _, err = svc.AddMailbox(ctx, d.TenantID, app.AddMailboxInput{Address: "welcome@celanio.com", DisplayName: "celanio GmbH",
		Sender: true, ReplyTo: true, Settings: &app.ServerSettingsInput{Host: ptr("smtp.celanio.com"), Encryption: "TLS", Auth: "PASSWORD",
			Username: ptr("welcome@celanio.com"), Password: ptr("change-me-too"), SenderAddress: "welcome@celanio.com", SenderName: ptr("celanio GmbH")}}); err != nil {
		return d, err
	}
	if d.UserID, _, err = svc.CreateUser(ctx, d.TenantID, "mustermann", "Mustermann", "welcome@celanio.com", domain.RoleEmployee); err != nil {
		return d, err
	}
	d.UserToken, _, err = svc.IssueUserToken(ctx, d.UserID, "demo")
	return d, err
}
