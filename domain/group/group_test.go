package group_test

import (
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/user"
)

var (
	sales = group.GroupCreated{GroupID: "g1", TenantID: "t1", Name: "Sales"}
	max   = user.UserCreated{UserID: "u2", TenantID: "t1", LoginName: "max", DisplayName: "Max", Email: "max@celanio.com", EmailKey: "max@celanio.com", Role: domain.RoleEmployee}
	other = user.UserCreated{UserID: "u9", TenantID: "t2", LoginName: "o", DisplayName: "O", Email: "o@other.example", EmailKey: "o@other.example", Role: domain.RoleEmployee}
)

func TestCreateGroup(t *testing.T) {
	got, err := Given[group.State]().Create("g1", "t1", " Sales ")
	ThenEvents(t, got, err, sales)
	got, err = Given[group.State]().Create("g1", "t1", "  ")
	ThenError(t, got, err, domain.ErrInvalidInput, "name")
}

func TestR18_GroupMembers(t *testing.T) {
	t.Run("R18 adding a member records it on both streams", func(t *testing.T) {
		ge, ue, err := group.AddMember(Given[group.State](sales), Given[user.State](max))
		ThenEvents(t, ge, err, group.GroupMemberAdded{GroupID: "g1", TenantID: "t1", UserID: "u2"})
		ThenEvents(t, ue, err, user.UserJoinedGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"})
	})
	t.Run("R18 a user of another tenant is NOT_FOUND", func(t *testing.T) {
		g := Given[group.State](sales)
		ge, ue, err := group.AddMember(g, Given[user.State](other))
		ThenError(t, append(ge, ue...), err, domain.ErrNotFound, "")
		Unchanged(t, g, sales)
	})
	t.Run("R18 a deleted group is NOT_FOUND", func(t *testing.T) {
		ge, ue, err := group.AddMember(Given[group.State](sales, group.GroupDeleted{GroupID: "g1", TenantID: "t1"}), Given[user.State](max))
		ThenError(t, append(ge, ue...), err, domain.ErrNotFound, "")
	})
	t.Run("removing a member", func(t *testing.T) {
		g := Given[group.State](sales, group.GroupMemberAdded{GroupID: "g1", TenantID: "t1", UserID: "u2"})
		ge, ue, err := group.RemoveMember(g, Given[user.State](max, user.UserJoinedGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"}))
		ThenEvents(t, ge, err, group.GroupMemberRemoved{GroupID: "g1", TenantID: "t1", UserID: "u2"})
		ThenEvents(t, ue, err, user.UserLeftGroup{UserID: "u2", TenantID: "t1", GroupID: "g1"})
	})
}
