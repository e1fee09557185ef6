package e2e_test

import (
	"strings"
	"testing"
)

// TestSeed001_R13_R14_R15_R16_Duplicates is the seed 001 example: tenant
// "celanio GmbH", the authenticated mailbox "celanio GmbH
// <welcome@celanio.com>" and the backend user "Mustermann" with the same
// e-mail address, under each duplicate policy.
func TestSeed001_R13_R14_R15_R16_Duplicates(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		celanio := e.createTenant(t, "celanio GmbH")
		mb := e.addMailbox(t, e.Admin, celanio, "welcome@celanio.com", "celanio GmbH", true, true,
			map[string]any{"set": mailboxSMTP("welcome@celanio.com")})
		must := e.user(t, celanio, "Mustermann", "welcome@celanio.com", "EMPLOYEE")
		other := e.user(t, celanio, "Erika Beispiel", "erika@celanio.com", "EMPLOYEE")

		mailboxOpt := opt("welcome@celanio.com", "celanio GmbH", "MAILBOX", mb, "MAILBOX")
		userOpt := opt("welcome@celanio.com", "Mustermann", "USER", mb, "MAILBOX")

		t.Run("R13 R14 userAddressAsSender off (default): no own address", func(t *testing.T) {
			if p := e.tenant(t, e.Admin, celanio).Policy; p.UserAddressAsSender || p.DuplicatePolicy != "PREFER_USER" {
				t.Fatalf("default policy: got userAddressAsSender=%v duplicatePolicy=%s, want false PREFER_USER", p.UserAddressAsSender, p.DuplicatePolicy)
			}
			s, r := e.options(t, other)
			want := []option{sysOpt("SYSTEM_SERVER"), mailboxOpt}
			wantOptions(t, "sender options", s, want)
			wantOptions(t, "reply-to options", r, want)
		})

		e.setPolicy(t, celanio, map[string]any{"userAddressAsSender": true})

		t.Run("R13 R14 userAddressAsSender on: own address through the tenant's server", func(t *testing.T) {
			s, r := e.options(t, other)
			want := []option{sysOpt("SYSTEM_SERVER"), mailboxOpt,
				opt("erika@celanio.com", "Erika Beispiel", "USER", "", "SYSTEM_SERVER")}
			wantOptions(t, "sender options", s, want)
			wantOptions(t, "reply-to options", r, want)
		})

		for _, c := range []struct {
			policy string
			want   []option
		}{
			{"PREFER_USER", []option{sysOpt("SYSTEM_SERVER"), userOpt}},
			// "celanio gmbh" sorts before "mustermann".
			{"SHOW_BOTH", []option{sysOpt("SYSTEM_SERVER"), mailboxOpt, userOpt}},
			{"PREFER_MAILBOX", []option{sysOpt("SYSTEM_SERVER"), mailboxOpt}},
		} {
			t.Run("R15 R16 "+c.policy, func(t *testing.T) {
				e.setPolicy(t, celanio, map[string]any{"duplicatePolicy": c.policy})
				if got := e.tenant(t, e.Admin, celanio).Policy.DuplicatePolicy; got != c.policy {
					t.Fatalf("duplicatePolicy: got %s, want %s", got, c.policy)
				}
				s, r := e.options(t, must)
				wantOptions(t, "sender options", s, c.want)
				wantOptions(t, "reply-to options", r, c.want)
				// The user's own token sees the same list.
				var v struct {
					Viewer struct{ SenderOptions []option }
				}
				e.must(t, e.token(t, must), `{ viewer{ senderOptions{ `+optFields+` } } }`, nil, &v)
				wantOptions(t, "viewer sender options", v.Viewer.SenderOptions, c.want)
			})
		}
	})
}

// TestR13_R14_R15_OptionLists covers flags, ordering and the system mailbox
// yielding to a mailbox with its address.
func TestR13_R14_R15_OptionLists(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)

		t.Run("R13 R14 sender and replyTo flags", func(t *testing.T) {
			tenant := e.createTenant(t, "Flags AG")
			e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 3})
			sendOnly := e.addMailbox(t, e.Admin, tenant, "send@flags.example", "Send Only", true, false, nil)
			replyOnly := e.addMailbox(t, e.Admin, tenant, "reply@flags.example", "Reply Only", false, true, nil)
			e.addMailbox(t, e.Admin, tenant, "none@flags.example", "Neither", false, false, nil)
			u := e.user(t, tenant, "Fritz Flag", "fritz@flags.example", "EMPLOYEE")
			s, r := e.options(t, u)
			wantOptions(t, "sender options", s, []option{sysOpt("SYSTEM_SERVER"), opt("send@flags.example", "Send Only", "MAILBOX", sendOnly, "SYSTEM_SERVER")})
			wantOptions(t, "reply-to options", r, []option{sysOpt("SYSTEM_SERVER"), opt("reply@flags.example", "Reply Only", "MAILBOX", replyOnly, "SYSTEM_SERVER")})

			// Flipping the flags moves the options at once.
			e.must(t, e.Admin, `mutation($id:ID!){ updateMailbox(id:$id, sender:false, replyTo:true){ id } }`, map[string]any{"id": sendOnly}, nil)
			s, r = e.options(t, u)
			wantOptions(t, "sender options after update", s, []option{sysOpt("SYSTEM_SERVER")})
			wantOptions(t, "reply-to options after update", r, []option{sysOpt("SYSTEM_SERVER"),
				opt("reply@flags.example", "Reply Only", "MAILBOX", replyOnly, "SYSTEM_SERVER"),
				opt("send@flags.example", "Send Only", "MAILBOX", sendOnly, "SYSTEM_SERVER")})
		})

		t.Run("R15 order: system mailbox, then case-folded display name, then address", func(t *testing.T) {
			tenant := e.createTenant(t, "Order KG")
			e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 5, "userAddressAsSender": true})
			zeta := e.addMailbox(t, e.Admin, tenant, "a@order.example", "Zeta", true, true, nil)
			alphaZ := e.addMailbox(t, e.Admin, tenant, "z@order.example", "alpha", true, true, nil)
			alphaB := e.addMailbox(t, e.Admin, tenant, "b@order.example", "Alpha", true, true, nil)
			beta := e.addMailbox(t, e.Admin, tenant, "c@order.example", "beta", true, true, nil)
			u := e.user(t, tenant, "Berta Order", "berta@order.example", "EMPLOYEE")
			want := []option{
				sysOpt("SYSTEM_SERVER"),
				opt("b@order.example", "Alpha", "MAILBOX", alphaB, "SYSTEM_SERVER"),
				opt("z@order.example", "alpha", "MAILBOX", alphaZ, "SYSTEM_SERVER"),
				opt("berta@order.example", "Berta Order", "USER", "", "SYSTEM_SERVER"),
				opt("c@order.example", "beta", "MAILBOX", beta, "SYSTEM_SERVER"),
				opt("a@order.example", "Zeta", "MAILBOX", zeta, "SYSTEM_SERVER"),
			}
			s, r := e.options(t, u)
			wantOptions(t, "sender options", s, want)
			wantOptions(t, "reply-to options", r, want)
		})

		t.Run("R15 R8 the system mailbox yields to a mailbox with its address", func(t *testing.T) {
			tenant := e.createTenant(t, "Yield GmbH")
			u := e.user(t, tenant, "Yvonne Yield", "yvonne@yield.example", "EMPLOYEE")
			mb := e.addMailbox(t, e.Admin, tenant, "NoReply@Absender.example", "Absender Noreply", true, false,
				map[string]any{"set": mailboxSMTP("NoReply@Absender.example")})
			s, r := e.options(t, u)
			wantOptions(t, "sender options", s, []option{opt("NoReply@absender.example", "Absender Noreply", "MAILBOX", mb, "MAILBOX")})
			// The mailbox is not a reply-to address: the system mailbox stays
			// there, and its address would be sent through the mailbox (R16).
			wantOptions(t, "reply-to options", r, []option{sysOpt("MAILBOX")})
		})

		t.Run("R16 R2 transports follow the tenant's resolved server", func(t *testing.T) {
			tenant := e.createTenant(t, "Transport GmbH")
			e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 2, "userAddressAsSender": true})
			e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": tenant, "i": ownServer()}, nil)
			plain := e.addMailbox(t, e.Admin, tenant, "sales@transport.example", "Sales", true, true, nil)
			auth := e.addMailbox(t, e.Admin, tenant, "billing@transport.example", "Billing", true, true,
				map[string]any{"set": mailboxSMTP("billing@transport.example")})
			u := e.user(t, tenant, "Tina Transport", "tina@transport.example", "EMPLOYEE")
			wantOptions(t, "sender options with the tenant server", e.senderOptions(t, u), []option{
				opt("system@own.example", "Own Server", "SYSTEM_MAILBOX", "", "TENANT_SERVER"),
				opt("billing@transport.example", "Billing", "MAILBOX", auth, "MAILBOX"),
				opt("sales@transport.example", "Sales", "MAILBOX", plain, "TENANT_SERVER"),
				opt("tina@transport.example", "Tina Transport", "USER", "", "TENANT_SERVER"),
			})
			e.setPolicy(t, tenant, map[string]any{"allowOwnServer": false})
			wantOptions(t, "sender options with the tenant server ignored", e.senderOptions(t, u), []option{
				sysOpt("SYSTEM_SERVER"),
				opt("billing@transport.example", "Billing", "MAILBOX", auth, "MAILBOX"),
				opt("sales@transport.example", "Sales", "MAILBOX", plain, "SYSTEM_SERVER"),
				opt("tina@transport.example", "Tina Transport", "USER", "", "SYSTEM_SERVER"),
			})
		})

		t.Run("R12 R15 of two global mailboxes with the same address the older wins", func(t *testing.T) {
			first := e.createTenant(t, "First Global AG")
			second := e.createTenant(t, "Second Global AG")
			older := e.addMailbox(t, e.Admin, first, "same@global.example", "Older", true, true, map[string]any{"g": true})
			e.addMailbox(t, e.Admin, second, "same@global.example", "Newer", true, true, map[string]any{"g": true})
			u := e.user(t, e.createTenant(t, "Third Party AG"), "Theo Third", "theo@third.example", "EMPLOYEE")
			wantOptions(t, "sender options", e.senderOptions(t, u), []option{sysOpt("SYSTEM_SERVER"),
				opt("same@global.example", "Older", "MAILBOX", older, "SYSTEM_SERVER")})
		})

		t.Run("R15 the own tenant's mailbox wins over a global one with the same address", func(t *testing.T) {
			owner := e.createTenant(t, "Global Owner AG")
			mine := e.createTenant(t, "Own Copy AG")
			e.addMailbox(t, e.Admin, owner, "shared@share.example", "Global Shared", true, true, map[string]any{"g": true})
			own := e.addMailbox(t, e.Admin, mine, "Shared@Share.example", "My Shared", true, true, nil)
			u := e.user(t, mine, "Mia Mine", "mia@mine.example", "EMPLOYEE")
			// Other subtests' global mailboxes are visible here too: look at
			// this address only.
			var got []option
			for _, o := range e.senderOptions(t, u) {
				if strings.EqualFold(o.Address, "shared@share.example") {
					got = append(got, o)
				}
			}
			wantOptions(t, "sender options for shared@share.example", got, []option{opt("Shared@share.example", "My Shared", "MAILBOX", own, "SYSTEM_SERVER")})
		})
	})
}
