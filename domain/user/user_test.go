package user_test

import (
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/user"
)

func ptr[T any](v T) *T { return &v }

var (
	cmd = user.Create{UserID: "u2", TenantID: "t1", LoginName: " Mustermann ", DisplayName: "Max Mustermann",
		Email: "Welcome@celanio.com", Role: domain.RoleEmployee}
	created = user.UserCreated{UserID: "u2", TenantID: "t1", LoginName: "Mustermann", DisplayName: "Max Mustermann",
		Email: "Welcome@celanio.com", EmailKey: "welcome@celanio.com", Role: domain.RoleEmployee}
	deleted = user.UserDeleted{UserID: "u2", TenantID: "t1"}
)

func TestR18_CreateUser(t *testing.T) {
	t.Run("R18 creates the user and claims the login name", func(t *testing.T) {
		ue, le, err := Given[user.State]().Create(Given[login.State](), cmd)
		ThenEvents(t, ue, err, created)
		ThenEvents(t, le, err, login.LoginNameClaimed{LoginName: "Mustermann", UserID: "u2"})
	})
	t.Run("R18 a taken login name is ALREADY_EXISTS", func(t *testing.T) {
		claim := Given[login.State](login.LoginNameClaimed{LoginName: "mustermann", UserID: "u1"})
		ue, le, err := Given[user.State]().Create(claim, cmd)
		ThenError(t, append(ue, le...), err, domain.ErrAlreadyExists, "loginName")
	})
	for _, role := range []domain.Role{domain.RoleSystemAdmin, domain.RoleAuditor, domain.RoleMailServer, {}} {
		t.Run("R18 system role "+role.String()+" is INVALID_INPUT field role", func(t *testing.T) {
			c := cmd
			c.Role = role
			ue, le, err := Given[user.State]().Create(Given[login.State](), c)
			ThenError(t, append(ue, le...), err, domain.ErrInvalidInput, "role")
		})
	}
	for field, edit := range map[string]func(*user.Create){
		"loginName":   func(c *user.Create) { c.LoginName = " " },
		"displayName": func(c *user.Create) { c.DisplayName = "" },
		"email":       func(c *user.Create) { c.Email = "no-address" },
	} {
		t.Run("R18 invalid "+field+" is INVALID_INPUT", func(t *testing.T) {
			c := cmd
			edit(&c)
			ue, le, err := Given[user.State]().Create(Given[login.State](), c)
			ThenError(t, append(ue, le...), err, domain.ErrInvalidInput, field)
		})
	}
	t.Run("R19 precedence: INVALID_INPUT before ALREADY_EXISTS", func(t *testing.T) {
		c := cmd
		c.Role = domain.RoleSystemAdmin
		claim := Given[login.State](login.LoginNameClaimed{LoginName: "mustermann", UserID: "u1"})
		ue, le, err := Given[user.State]().Create(claim, c)
		ThenError(t, append(ue, le...), err, domain.ErrInvalidInput, "role")
	})
}

func TestUpdateUser(t *testing.T) {
	t.Run("records only the changes", func(t *testing.T) {
		got, err := Given[user.State](created).Update(user.Update{DisplayName: ptr("Max Mustermann"), Email: ptr("max@celanio.com")})
		ThenEvents(t, got, err, user.UserUpdated{UserID: "u2", TenantID: "t1", Email: ptr("max@celanio.com"), EmailKey: ptr("max@celanio.com")})
	})
	t.Run("R18 a system role is INVALID_INPUT field role", func(t *testing.T) {
		s := Given[user.State](created)
		got, err := s.Update(user.Update{Role: ptr(domain.RoleSystemAdmin)})
		ThenError(t, got, err, domain.ErrInvalidInput, "role")
		Unchanged(t, s, created)
	})
	t.Run("R18 commands on a deleted user are NOT_FOUND", func(t *testing.T) {
		s := Given[user.State](created, deleted)
		got, err := s.Update(user.Update{DisplayName: ptr("X")})
		ThenError(t, got, err, domain.ErrNotFound, "")
		got, err = s.SetBlocked(true)
		ThenError(t, got, err, domain.ErrNotFound, "")
		Unchanged(t, s, created, deleted)
	})
}

func TestR20_BlockUser(t *testing.T) {
	s := Given[user.State](created)
	got, err := s.SetBlocked(true)
	ThenEvents(t, got, err, user.UserBlockedChanged{UserID: "u2", TenantID: "t1", Blocked: true})
	if !Apply(s, got...).Blocked() {
		t.Fatal("got not blocked, want blocked")
	}
	got, err = s.SetBlocked(true)
	ThenEvents(t, got, err)
}
