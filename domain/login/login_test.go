package login_test

import (
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/login"
)

func TestR18_LoginNames(t *testing.T) {
	t.Run("R18 stream key is trimmed and case-folded", func(t *testing.T) {
		if a, b := login.StreamKey(" Mustermann "), login.StreamKey("MUSTERMANN"); a != b || a != "mustermann" {
			t.Fatalf("got %q and %q, want mustermann", a, b)
		}
	})
	t.Run("R18 claiming a claimed name is ALREADY_EXISTS", func(t *testing.T) {
		given := []domain.Event{login.LoginNameClaimed{LoginName: "max", UserID: "u1"}}
		s := Given[login.State](given...)
		got, err := s.Claim("Max", "u2")
		ThenError(t, got, err, domain.ErrAlreadyExists, "loginName")
		Unchanged(t, s, given...)
	})
	t.Run("R18 a released name can be claimed again", func(t *testing.T) {
		s := Given[login.State](login.LoginNameClaimed{LoginName: "max", UserID: "u1"})
		got, err := s.Release("u1")
		ThenEvents(t, got, err, login.LoginNameReleased{LoginName: "max", UserID: "u1"})
		got, err = Apply(s, got...).Claim("max", "u2")
		ThenEvents(t, got, err, login.LoginNameClaimed{LoginName: "max", UserID: "u2"})
	})
	t.Run("release by another user changes nothing", func(t *testing.T) {
		got, err := Given[login.State](login.LoginNameClaimed{LoginName: "max", UserID: "u1"}).Release("u2")
		ThenEvents(t, got, err)
	})
}
