package directory_test

import (
	"reflect"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/directory"
	"github.com/absender/absender/domain/group"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/user"
)

var (
	max = []domain.Event{
		user.UserCreated{UserID: "u2", TenantID: "t1", LoginName: "Max", DisplayName: "Max", Email: "max@celanio.com", EmailKey: "max@celanio.com", Role: domain.RoleEmployee},
		user.UserJoinedGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"},
		user.UserMailboxGranted{UserID: "u2", TenantID: "t1", MailboxID: "m1"},
	}
	sales = []domain.Event{
		group.GroupCreated{GroupID: "g1", TenantID: "t1", Name: "Sales"},
		group.GroupMemberAdded{GroupID: "g1", TenantID: "t1", UserID: "u2"},
		group.GroupMailboxGranted{GroupID: "g1", TenantID: "t1", MailboxID: "m1"},
	}
	welcome = []domain.Event{
		mailbox.MailboxAdded{MailboxID: "m1", TenantID: "t1", Address: "welcome@celanio.com", AddressKey: "welcome@celanio.com", DisplayName: "celanio GmbH", Sender: true},
		mailbox.MailboxRestrictionChanged{MailboxID: "m1", TenantID: "t1", Restricted: true}, // R11: with the first grant
		mailbox.MailboxUserGranted{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"},
		mailbox.MailboxGroupGranted{MailboxID: "m1", TenantID: "t1", GroupID: "g1", GroupTenantID: "t1"},
	}
	claim = login.LoginNameClaimed{LoginName: "Max", UserID: "u2"}
)

func ref(kind domain.StreamKind, id string) domain.StreamRef {
	return domain.StreamRef{Kind: kind, ID: id}
}

func TestR18_DeleteUser(t *testing.T) {
	t.Run("R18 deleting a user revokes its grants and memberships and releases its login name", func(t *testing.T) {
		mb := Given[mailbox.State](welcome...)
		ch, err := directory.DeleteUser(Given[user.State](max...), Given[login.State](claim),
			map[string]*group.State{"g1": Given[group.State](sales...)}, map[string]*mailbox.State{"m1": mb})
		want := domain.Changes{
			{Stream: ref(domain.StreamUser, "u2"), Events: []domain.Event{
				user.UserLeftGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"},
				user.UserMailboxRevoked{UserID: "u2", TenantID: "t1", MailboxID: "m1"},
				user.UserDeleted{UserID: "u2", TenantID: "t1"}}},
			{Stream: ref(domain.StreamLogin, "max"), Events: []domain.Event{login.LoginNameReleased{LoginName: "Max", UserID: "u2"}}},
			{Stream: ref(domain.StreamGroup, "g1"), Events: []domain.Event{group.GroupMemberRemoved{GroupID: "g1", TenantID: "t1", UserID: "u2"}}},
			{Stream: ref(domain.StreamMailbox, "m1"), Events: []domain.Event{mailbox.MailboxUserRevoked{MailboxID: "m1", TenantID: "t1", UserID: "u2", UserTenantID: "t1"}}},
		}
		if err != nil || !reflect.DeepEqual(ch, want) {
			t.Fatalf("got %#v, %v; want %#v", ch, err, want)
		}
		Apply(mb, ch.For(domain.StreamMailbox, "m1")...)
		if mb.HasUserGrant("u2") || !mb.Restricted() {
			t.Fatal("got the user's grant kept, want it revoked (the group grant keeps the mailbox restricted)")
		}
	})
	t.Run("R18 deleting a deleted user is NOT_FOUND", func(t *testing.T) {
		_, err := directory.DeleteUser(Given[user.State](append(max, user.UserDeleted{UserID: "u2", TenantID: "t1"})...), Given[login.State](), nil, nil)
		ThenError(t, nil, err, domain.ErrNotFound, "")
	})
}

func TestR18_DeleteGroup(t *testing.T) {
	mb := Given[mailbox.State](welcome...)
	ch, err := directory.DeleteGroup(Given[group.State](sales...), map[string]*mailbox.State{"m1": mb})
	want := domain.Changes{
		{Stream: ref(domain.StreamGroup, "g1"), Events: []domain.Event{
			group.GroupMemberRemoved{GroupID: "g1", TenantID: "t1", UserID: "u2"},
			group.GroupMailboxRevoked{GroupID: "g1", TenantID: "t1", MailboxID: "m1"},
			group.GroupDeleted{GroupID: "g1", TenantID: "t1"}}},
		{Stream: ref(domain.StreamUser, "u2"), Events: []domain.Event{user.UserLeftGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"}}},
		{Stream: ref(domain.StreamMailbox, "m1"), Events: []domain.Event{mailbox.MailboxGroupRevoked{MailboxID: "m1", TenantID: "t1", GroupID: "g1", GroupTenantID: "t1"}}},
	}
	if err != nil || !reflect.DeepEqual(ch, want) {
		t.Fatalf("got %#v, %v; want %#v", ch, err, want)
	}
}
