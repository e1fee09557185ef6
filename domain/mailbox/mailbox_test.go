package mailbox_test

import (
	"reflect"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/user"
)

func ptr[T any](v T) *T { return &v }

var (
	sysAdmin    = domain.Actor{UserID: "root", Role: domain.RoleSystemAdmin}
	tenantAdmin = domain.Actor{UserID: "u1", TenantID: "t1", Role: domain.RoleAdministrator}
	celanio     = tenant.TenantCreated{TenantID: "t1", Name: "celanio GmbH", Policy: tenant.DefaultPolicy()}
	welcome     = mailbox.MailboxAdded{MailboxID: "m1", TenantID: "t1", Address: "welcome@celanio.com",
		AddressKey: "welcome@celanio.com", DisplayName: "celanio GmbH", Sender: true, ReplyTo: true}
	registered = tenant.TenantMailboxRegistered{TenantID: "t1", MailboxID: "m1", Address: "welcome@celanio.com", AddressKey: "welcome@celanio.com"}
	mustermann = user.UserCreated{UserID: "u2", TenantID: "t1", LoginName: "mustermann", DisplayName: "Mustermann",
		Email: "welcome@celanio.com", EmailKey: "welcome@celanio.com", Role: domain.RoleEmployee}
	foreigner = user.UserCreated{UserID: "u9", TenantID: "t2", LoginName: "x", DisplayName: "X",
		Email: "x@other.example", EmailKey: "x@other.example", Role: domain.RoleEmployee}
	sales        = group.GroupCreated{GroupID: "g1", TenantID: "t1", Name: "Sales"}
	restrictedM1 = mailbox.MailboxRestrictionChanged{MailboxID: "m1", TenantID: "t1", Restricted: true}
)

// Seed 001: tenant "celanio GmbH" adds "celanio GmbH <welcome@celanio.com>" with own SMTP settings.
func TestSeed001_AuthenticatedMailbox(t *testing.T) {
	ten := Given[tenant.State](celanio)
	cmd := mailbox.AddMailbox{MailboxID: "m1", Address: "Welcome@Celanio.com", DisplayName: "celanio GmbH", Sender: true, ReplyTo: true,
		Settings: &domain.ServerSettingsInput{Host: ptr("smtp.celanio.com"), Encryption: domain.EncryptionSTARTTLS,
			Auth: domain.AuthPassword, Username: ptr("welcome@celanio.com"), Password: ptr(domain.Secret("enc:secret")),
			SenderAddress: "welcome@celanio.com", SenderName: ptr("celanio GmbH")}}
	tenantEvents, mailboxEvents, err := mailbox.Add(ten, tenantAdmin, cmd)
	settings := &domain.ServerSettings{Host: "smtp.celanio.com", Port: 587, Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthPassword, Username: "welcome@celanio.com", Password: "enc:secret",
		SenderAddress: "welcome@celanio.com", SenderName: "celanio GmbH"}
	ThenEvents(t, tenantEvents, err, tenant.TenantMailboxRegistered{TenantID: "t1", MailboxID: "m1", Address: "Welcome@celanio.com", AddressKey: "welcome@celanio.com"})
	ThenEvents(t, mailboxEvents, err, mailbox.MailboxAdded{MailboxID: "m1", TenantID: "t1", Address: "Welcome@celanio.com",
		AddressKey: "welcome@celanio.com", DisplayName: "celanio GmbH", Sender: true, ReplyTo: true, Settings: settings})
	mb := Given[mailbox.State](mailboxEvents...)
	if !mb.Authenticated() || mb.Restricted() {
		t.Fatalf("got authenticated %v restricted %v, want true, false", mb.Authenticated(), mb.Restricted())
	}
}

func TestR9_R10_AddMailbox(t *testing.T) {
	add := mailbox.AddMailbox{MailboxID: "m2", Address: "WELCOME@celanio.com", DisplayName: "Other"}
	quota2 := tenant.DefaultPolicy()
	quota2.MailboxQuota = 2
	given := []domain.Event{celanio, tenant.TenantPolicyChanged{TenantID: "t1", Policy: quota2}, registered}

	t.Run("R9 duplicate address (case-insensitive) is ALREADY_EXISTS", func(t *testing.T) {
		ten := Given[tenant.State](given...)
		te, me, err := mailbox.Add(ten, tenantAdmin, add)
		ThenError(t, append(te, me...), err, domain.ErrAlreadyExists, "address")
		Unchanged(t, ten, given...)
	})
	t.Run("R10 default quota 1: a second mailbox is QUOTA_EXCEEDED", func(t *testing.T) {
		given := []domain.Event{celanio, registered}
		ten := Given[tenant.State](given...)
		te, me, err := mailbox.Add(ten, tenantAdmin, mailbox.AddMailbox{MailboxID: "m2", Address: "info@celanio.com", DisplayName: "Info"})
		ThenError(t, append(te, me...), err, domain.ErrQuotaExceeded, "")
		Unchanged(t, ten, given...)
	})
	t.Run("R10 quota 0 refuses the first mailbox", func(t *testing.T) {
		zero := tenant.DefaultPolicy()
		zero.MailboxQuota = 0
		ten := Given[tenant.State](celanio, tenant.TenantPolicyChanged{TenantID: "t1", Policy: zero})
		te, me, err := mailbox.Add(ten, tenantAdmin, add)
		ThenError(t, append(te, me...), err, domain.ErrQuotaExceeded, "")
	})
	t.Run("R19 precedence: ALREADY_EXISTS before QUOTA_EXCEEDED", func(t *testing.T) {
		ten := Given[tenant.State](celanio, registered)
		te, me, err := mailbox.Add(ten, tenantAdmin, add)
		ThenError(t, append(te, me...), err, domain.ErrAlreadyExists, "address")
	})
	t.Run("R19 precedence: INVALID_INPUT before QUOTA_EXCEEDED", func(t *testing.T) {
		ten := Given[tenant.State](celanio, registered)
		te, me, err := mailbox.Add(ten, tenantAdmin, mailbox.AddMailbox{MailboxID: "m2", Address: "nope", DisplayName: "x"})
		ThenError(t, append(te, me...), err, domain.ErrInvalidInput, "address")
	})
	t.Run("R9 display name is required", func(t *testing.T) {
		te, me, err := mailbox.Add(Given[tenant.State](celanio), tenantAdmin, mailbox.AddMailbox{MailboxID: "m2", Address: "a@celanio.com", DisplayName: " "})
		ThenError(t, append(te, me...), err, domain.ErrInvalidInput, "displayName")
	})
	t.Run("R12 only a system administrator adds a global mailbox", func(t *testing.T) {
		te, me, err := mailbox.Add(Given[tenant.State](celanio), tenantAdmin, mailbox.AddMailbox{MailboxID: "m2", Address: "a@celanio.com", DisplayName: "A", Global: true})
		ThenError(t, append(te, me...), err, domain.ErrForbidden, "")
	})
	t.Run("R9 R10 removing a mailbox frees address and quota", func(t *testing.T) {
		ten := Given[tenant.State](celanio, registered)
		ch, err := mailbox.Remove(ten, Given[mailbox.State](welcome))
		if err != nil {
			t.Fatal(err)
		}
		Apply(ten, ch.For(domain.StreamTenant, "t1")...)
		te, _, err := mailbox.Add(ten, tenantAdmin, add)
		if err != nil || len(te) != 1 {
			t.Fatalf("got %v, %v; want the mailbox registered", te, err)
		}
	})
}

func TestR11_R12_Grants(t *testing.T) {
	t.Run("R11 the first grant restricts the mailbox; revoking the last leaves it restricted, usable by nobody", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		u := Given[user.State](mustermann)
		me, ue, err := mailbox.GrantUser(mb, u, tenantAdmin)
		ThenEvents(t, me, err, restrictedM1,
			mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"})
		ThenEvents(t, ue, err, user.UserMailboxGranted{UserID: "u2", TenantID: "t1", MailboxID: "m1"})
		Apply(mb, me...)
		Apply(u, ue...)
		if !mb.Restricted() || !u.HasMailboxGrant("m1") {
			t.Fatal("got open mailbox, want restricted after a grant")
		}
		Apply(u, user.UserBlockedChanged{UserID: "u2", TenantID: "t1", Blocked: true})
		if !mb.Restricted() {
			t.Fatal("R11: a mailbox whose only grantee is blocked must stay restricted")
		}
		me, ue, err = mailbox.RevokeUser(mb, u, tenantAdmin)
		ThenEvents(t, me, err, mailbox.MailboxUserRevoked{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"})
		if !Apply(mb, me...).Restricted() || Apply(u, ue...).HasMailboxGrant("m1") {
			t.Fatal("R11 fail closed: got open after revoking the last grant, want restricted")
		}
		me, _, err = mailbox.GrantUser(mb, u, tenantAdmin)
		ThenEvents(t, me, err, mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"})
	})
	t.Run("R11 a group grant restricts the mailbox even when the group is empty", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		me, ge, err := mailbox.GrantGroup(mb, Given[group.State](sales), tenantAdmin)
		ThenEvents(t, me, err, restrictedM1, mailbox.MailboxGroupGranted{MailboxID: "m1", TenantID: "t1", GroupID: "g1", GroupTenantID: "t1"})
		ThenEvents(t, ge, err, group.GroupMailboxGranted{GroupID: "g1", TenantID: "t1", MailboxID: "m1"})
		if !Apply(mb, me...).Restricted() {
			t.Fatal("got open, want restricted")
		}
	})
	t.Run("R12 a foreign user on a non-global mailbox is NOT_FOUND", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		me, ue, err := mailbox.GrantUser(mb, Given[user.State](foreigner), sysAdmin)
		ThenError(t, append(me, ue...), err, domain.ErrNotFound, "")
		Unchanged(t, mb, welcome)
	})
	global := welcome
	global.Global = true
	t.Run("R12 only a system administrator grants a global mailbox across tenants", func(t *testing.T) {
		mb := Given[mailbox.State](global)
		// The foreign user is another tenant's object: NOT_FOUND for a
		// tenant administrator (R19's precedence), not FORBIDDEN.
		me, ue, err := mailbox.GrantUser(mb, Given[user.State](foreigner), tenantAdmin)
		ThenError(t, append(me, ue...), err, domain.ErrNotFound, "")
		Unchanged(t, mb, global)
		me, _, err = mailbox.GrantUser(mb, Given[user.State](foreigner), sysAdmin)
		ThenEvents(t, me, err, restrictedM1, mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u9", UserTenantID: "t2"})
	})
	t.Run("R12 only a system administrator sets or clears global", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		ch, err := mailbox.Update(mb, tenantAdmin, mailbox.UpdateMailbox{Global: ptr(true)})
		if len(ch) != 0 {
			t.Fatalf("got changes %v, want none", ch)
		}
		ThenError(t, nil, err, domain.ErrForbidden, "")
		Unchanged(t, mb, welcome)
	})
	t.Run("R12 clearing global revokes the foreign grants in the same step; R11 the mailbox stays restricted", func(t *testing.T) {
		given := []domain.Event{global, restrictedM1,
			mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"},
			mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u9", UserTenantID: "t2"},
			mailbox.MailboxGroupGranted{MailboxID: "m1", TenantID: "t1", GroupID: "g9", GroupTenantID: "t2"}}
		mb := Given[mailbox.State](given...)
		ch, err := mailbox.Update(mb, sysAdmin, mailbox.UpdateMailbox{Global: ptr(false)})
		want := domain.Changes{
			{Stream: domain.StreamRef{Kind: domain.StreamMailbox, ID: "m1"}, Events: []domain.Event{mailbox.MailboxGlobalChanged{
				MailboxID: "m1", TenantID: "t1", Global: false, RevokedUsers: []string{"u9"}, RevokedGroups: []string{"g9"}}}},
			{Stream: domain.StreamRef{Kind: domain.StreamUser, ID: "u9"}, Events: []domain.Event{user.UserMailboxRevoked{UserID: "u9", TenantID: "t2", MailboxID: "m1"}}},
			{Stream: domain.StreamRef{Kind: domain.StreamGroup, ID: "g9"}, Events: []domain.Event{group.GroupMailboxRevoked{GroupID: "g9", TenantID: "t2", MailboxID: "m1"}}},
		}
		if err != nil || !reflect.DeepEqual(ch, want) {
			t.Fatalf("got %#v, %v; want %#v", ch, err, want)
		}
		Apply(mb, ch.For(domain.StreamMailbox, "m1")...)
		if got := mb.GrantedUserIDs(); !reflect.DeepEqual(got, []string{"u2"}) || mb.Global() {
			t.Fatalf("got grants %v global %v, want [u2] false", got, mb.Global())
		}
	})
}

func TestR4_MailboxSettings(t *testing.T) {
	t.Run("R4 invalid settings on update are refused", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		ch, err := mailbox.Update(mb, tenantAdmin, mailbox.UpdateMailbox{DisplayName: ptr("New"),
			Settings: &domain.ServerSettingsInput{Encryption: domain.EncryptionNone, Auth: domain.AuthNone, SenderAddress: "welcome@celanio.com"}})
		if len(ch) != 0 {
			t.Fatalf("got changes %v, want none", ch)
		}
		ThenError(t, nil, err, domain.ErrInvalidInput, "host")
		Unchanged(t, mb, welcome)
	})
	t.Run("R9 update flags and remove settings", func(t *testing.T) {
		withSettings := welcome
		withSettings.Settings = &domain.ServerSettings{Host: "h.example.com", Port: 25, Encryption: domain.EncryptionNone, Auth: domain.AuthNone, SenderAddress: "welcome@celanio.com"}
		mb := Given[mailbox.State](withSettings)
		ch, err := mailbox.Update(mb, tenantAdmin, mailbox.UpdateMailbox{Sender: ptr(false), RemoveSettings: true})
		ThenEvents(t, ch.For(domain.StreamMailbox, "m1"), err,
			mailbox.MailboxUpdated{MailboxID: "m1", TenantID: "t1", DisplayName: "celanio GmbH", Sender: false, ReplyTo: true},
			mailbox.MailboxSettingsRemoved{MailboxID: "m1", TenantID: "t1"})
		if Apply(mb, ch.For(domain.StreamMailbox, "m1")...).Authenticated() {
			t.Fatal("got authenticated, want not")
		}
	})
}

// R11 history stays true: a log written under the earlier rule (no
// MailboxRestrictionChanged; revoking the last grant opened the mailbox)
// replays to what it meant then; a revocation after the upgrade keeps the
// mailbox restricted under the new rule.
func TestR11_EarlierRuleLogs(t *testing.T) {
	grantU2 := mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"}
	revokeU2 := mailbox.MailboxUserRevoked{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"}
	t.Run("R11 an old log: grant then revoke of the last grant replays to open", func(t *testing.T) {
		if Given[mailbox.State](welcome, grantU2, revokeU2).Restricted() {
			t.Fatal("got restricted, want open as the earlier rule said")
		}
		if !Given[mailbox.State](welcome, grantU2).Restricted() {
			t.Fatal("got open, want restricted while the old log has a grant")
		}
	})
	t.Run("R11 revoking the last grant of an old mailbox after the upgrade keeps it restricted", func(t *testing.T) {
		mb := Given[mailbox.State](welcome, grantU2)
		u := Given[user.State](mustermann, user.UserMailboxGranted{UserID: "u2", TenantID: "t1", MailboxID: "m1"})
		me, _, err := mailbox.RevokeUser(mb, u, tenantAdmin)
		ThenEvents(t, me, err, restrictedM1, revokeU2)
		if !Apply(mb, me...).Restricted() {
			t.Fatal("got open, want restricted (fail closed)")
		}
	})
	t.Run("R11 R18 deleting the only grantee of an old mailbox keeps it restricted", func(t *testing.T) {
		mb := Given[mailbox.State](welcome, grantU2)
		me, _ := mailbox.UserRevocation(mb, "u2")
		ThenEvents(t, me, nil, restrictedM1, revokeU2)
		if !Apply(mb, me...).Restricted() {
			t.Fatal("got open, want restricted (fail closed)")
		}
	})
}

func TestR11_SetRestricted(t *testing.T) {
	grantU2 := mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"}
	grantG1 := mailbox.MailboxGroupGranted{MailboxID: "m1", TenantID: "t1", GroupID: "g1", GroupTenantID: "t1"}
	t.Run("R11 restricting a mailbox without grants makes it usable by nobody", func(t *testing.T) {
		mb := Given[mailbox.State](welcome)
		ch, err := mailbox.SetRestricted(mb, tenantAdmin, true)
		ThenEvents(t, ch.For(domain.StreamMailbox, "m1"), err, restrictedM1)
		if !Apply(mb, ch.For(domain.StreamMailbox, "m1")...).Restricted() || len(mb.GrantedUserIDs())+len(mb.GrantedGroupIDs()) != 0 {
			t.Fatal("got open or granted, want restricted without grants")
		}
		ch, err = mailbox.SetRestricted(mb, tenantAdmin, true)
		if err != nil || len(ch) != 0 {
			t.Fatalf("restricting again: got %v, %v; want nothing", ch, err)
		}
	})
	t.Run("R11 opening revokes the remaining grants in the same step", func(t *testing.T) {
		mb := Given[mailbox.State](welcome, restrictedM1, grantU2, grantG1)
		ch, err := mailbox.SetRestricted(mb, tenantAdmin, false)
		want := domain.Changes{
			{Stream: domain.StreamRef{Kind: domain.StreamMailbox, ID: "m1"}, Events: []domain.Event{mailbox.MailboxRestrictionChanged{
				MailboxID: "m1", TenantID: "t1", Restricted: false, RevokedUsers: []string{"u2"}, RevokedGroups: []string{"g1"}}}},
			{Stream: domain.StreamRef{Kind: domain.StreamUser, ID: "u2"}, Events: []domain.Event{user.UserMailboxRevoked{UserID: "u2", TenantID: "t1", MailboxID: "m1"}}},
			{Stream: domain.StreamRef{Kind: domain.StreamGroup, ID: "g1"}, Events: []domain.Event{group.GroupMailboxRevoked{GroupID: "g1", TenantID: "t1", MailboxID: "m1"}}},
		}
		if err != nil || !reflect.DeepEqual(ch, want) {
			t.Fatalf("got %#v, %v; want %#v", ch, err, want)
		}
		Apply(mb, ch.For(domain.StreamMailbox, "m1")...)
		if mb.Restricted() || len(mb.GrantedUserIDs())+len(mb.GrantedGroupIDs()) != 0 {
			t.Fatalf("got restricted %v grants %v %v, want open without grants", mb.Restricted(), mb.GrantedUserIDs(), mb.GrantedGroupIDs())
		}
		ch, err = mailbox.SetRestricted(mb, tenantAdmin, false)
		if err != nil || len(ch) != 0 {
			t.Fatalf("opening again: got %v, %v; want nothing", ch, err)
		}
	})
	t.Run("R11 an old mailbox restricted by its grants is restricted explicitly", func(t *testing.T) {
		mb := Given[mailbox.State](welcome, grantU2)
		ch, err := mailbox.SetRestricted(mb, tenantAdmin, true)
		ThenEvents(t, ch.For(domain.StreamMailbox, "m1"), err, restrictedM1)
	})
	t.Run("R12 only a system administrator opens a global mailbox with grants of other tenants", func(t *testing.T) {
		global := welcome
		global.Global = true
		given := []domain.Event{global, restrictedM1, mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u9", UserTenantID: "t2"}}
		mb := Given[mailbox.State](given...)
		ch, err := mailbox.SetRestricted(mb, tenantAdmin, false)
		if len(ch) != 0 {
			t.Fatalf("got changes %v, want none", ch)
		}
		ThenError(t, nil, err, domain.ErrForbidden, "")
		Unchanged(t, mb, given...)
		ch, err = mailbox.SetRestricted(mb, sysAdmin, false)
		ThenEvents(t, ch.For(domain.StreamUser, "u9"), err, user.UserMailboxRevoked{UserID: "u9", TenantID: "t2", MailboxID: "m1"})
	})
	t.Run("R11 a removed mailbox is NOT_FOUND", func(t *testing.T) {
		_, err := mailbox.SetRestricted(Given[mailbox.State](welcome, mailbox.MailboxRemoved{MailboxID: "m1", TenantID: "t1"}), tenantAdmin, true)
		ThenError(t, nil, err, domain.ErrNotFound, "")
	})
}
