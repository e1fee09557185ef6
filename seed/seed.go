// Package seed makes configuration histories through the command layer:
// a random history for tests that compare read models, a small demo, and
// the benchmark tenant of 10,000 users, 2,000 mailboxes and 50,000 grants.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/user"
)

// AsSystem is the request context seeding runs under.
func AsSystem(ctx context.Context) context.Context {
	return app.WithRequest(ctx, app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "seed"})
}

func ptr[T any](v T) *T { return &v }

// Random runs about n commands chosen at random (seeded by rnd) over a few
// tenants: users, groups, memberships, mailboxes (some global, some
// authenticated), grants, blocks, updates, deletions and policy changes.
// Commands the domain refuses are part of the history too (they append
// nothing); any other error stops it.
func Random(ctx context.Context, svc *app.App, rnd *rand.Rand, n int) error {
	ctx = AsSystem(ctx)
	if _, err := svc.Commands.System.ConfigureServer(ctx, app.ServerSettingsInput{Host: ptr("smtp.example.com"), Encryption: "STARTTLS",
		Auth: "PASSWORD", Username: ptr("mailer"), Password: ptr("s3cret"), SenderAddress: "noreply@example.com", SenderName: ptr("Example")}); err != nil {
		return err
	}
	var tenants, users, groups, boxes []string
	pick := func(xs []string) string {
		if len(xs) == 0 {
			return "missing"
		}
		return xs[rnd.IntN(len(xs))]
	}
	roles := []domain.Role{domain.RoleEmployee, domain.RoleEmployee, domain.RoleExternal, domain.RoleAdministrator, domain.RoleLegalRepresentative}
	policies := []tenant.DuplicatePolicy{tenant.PreferUser, tenant.ShowBoth, tenant.PreferMailbox}
	for i := 0; i < n; i++ {
		var err error
		switch k := rnd.IntN(100); {
		case len(tenants) < 3 || k < 2:
			var id string
			id, _, err = svc.Commands.Tenants.Create(ctx, fmt.Sprintf("Tenant %d", i))
			if err == nil {
				tenants = append(tenants, id)
				_, err = svc.Commands.Tenants.SetPolicy(ctx, id, tenant.PolicyChange{MailboxQuota: ptr(50)})
			}
		case k < 20:
			var id string
			id, _, err = svc.Commands.Users.Create(ctx, pick(tenants), fmt.Sprintf("user%d", i), fmt.Sprintf("User %d", rnd.IntN(1000)),
				fmt.Sprintf("u%d@example.com", rnd.IntN(40)), roles[rnd.IntN(len(roles))])
			if err == nil {
				users = append(users, id)
			}
		case k < 26:
			var id string
			id, _, err = svc.Commands.Groups.Create(ctx, pick(tenants), fmt.Sprintf("Group %d", i))
			if err == nil {
				groups = append(groups, id)
			}
		case k < 34:
			in := app.AddMailboxInput{Address: fmt.Sprintf("u%d@example.com", rnd.IntN(40)), DisplayName: fmt.Sprintf("Box %d", rnd.IntN(100)),
				Sender: rnd.IntN(4) > 0, ReplyTo: rnd.IntN(2) > 0, Global: rnd.IntN(6) == 0}
			if rnd.IntN(3) == 0 {
				in.Settings = &app.ServerSettingsInput{Host: ptr("smtp.example.com"), Encryption: "TLS", Auth: "PASSWORD",
					Username: ptr("box"), Password: ptr("pw"), SenderAddress: in.Address}
			}
			var id string
			id, _, err = svc.Commands.Mailboxes.Add(ctx, pick(tenants), in)
			if err == nil {
				boxes = append(boxes, id)
			}
		case k < 50:
			_, err = svc.Commands.Mailboxes.GrantUser(ctx, pick(boxes), pick(users))
		case k < 56:
			_, err = svc.Commands.Mailboxes.RevokeUser(ctx, pick(boxes), pick(users))
		case k < 64:
			_, err = svc.Commands.Mailboxes.GrantGroup(ctx, pick(boxes), pick(groups))
		case k < 67:
			_, err = svc.Commands.Mailboxes.RevokeGroup(ctx, pick(boxes), pick(groups))
		case k < 78:
			_, err = svc.Commands.Groups.AddMember(ctx, pick(groups), pick(users))
		case k < 82:
			_, err = svc.Commands.Groups.RemoveMember(ctx, pick(groups), pick(users))
		case k < 85:
			_, err = svc.Commands.Users.SetBlocked(ctx, pick(users), rnd.IntN(2) == 0)
		case k < 87:
			_, err = svc.Commands.Mailboxes.Update(ctx, pick(boxes), app.UpdateMailboxInput{Global: ptr(rnd.IntN(2) == 0), DisplayName: ptr(fmt.Sprintf("Box %d", rnd.IntN(100)))})
		case k < 89:
			_, err = svc.Commands.Users.Delete(ctx, pick(users))
		case k < 90:
			_, err = svc.Commands.Groups.Delete(ctx, pick(groups))
		case k < 92:
			_, err = svc.Commands.Mailboxes.Remove(ctx, pick(boxes))
		case k < 95:
			p := policies[rnd.IntN(len(policies))]
			_, err = svc.Commands.Tenants.SetPolicy(ctx, pick(tenants), tenant.PolicyChange{DuplicatePolicy: &p, UserAddressAsSender: ptr(rnd.IntN(2) == 0),
				AllowOwnServer: ptr(rnd.IntN(4) > 0), AllowSystemServer: ptr(rnd.IntN(5) > 0)})
		case k < 97:
			_, err = svc.Commands.Tenants.ConfigureServer(ctx, pick(tenants), app.ServerSettingsInput{Host: ptr("mail.tenant.example"), Encryption: "NONE",
				Auth: "NONE", SenderAddress: "info@tenant.example"})
		case k < 98:
			_, err = svc.Commands.System.SetServerEnabled(ctx, rnd.IntN(4) > 0)
		default:
			_, err = svc.Commands.Users.Update(ctx, pick(users), userUpdate(rnd))
		}
		var derr *domain.Error
		if err != nil && !errors.As(err, &derr) {
			return fmt.Errorf("seed: command %d: %w", i, err)
		}
	}
	return nil
}

func userUpdate(rnd *rand.Rand) (u user.Update) {
	u.DisplayName = ptr(fmt.Sprintf("Renamed %d", rnd.IntN(1000)))
	if rnd.IntN(2) == 0 {
		u.Email = ptr(fmt.Sprintf("u%d@example.com", rnd.IntN(40)))
	}
	return u
}
