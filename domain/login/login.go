// Package login holds login-name claims: one stream per case-folded login
// name (stream key StreamKey(name)).
//
// # Why R18's unique login names are race-free
//
// createUser appends LoginNameClaimed to the name's own stream in the same
// transaction as UserCreated. For a new name both of two concurrent
// createUser commands expect the name stream to be empty and append version
// 1: the store lets exactly one win; the other gets a version conflict,
// reloads the claim and decides again, now ALREADY_EXISTS (field
// loginName). Deleting a user releases the name so it can be claimed again.
package login

import (
	"strings"
	"unicode"

	"github.com/absender/absender/domain"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// StreamKey is the stream key of a login name: trimmed, NFC, case-folded.
func StreamKey(loginName string) string {
	return norm.NFC.String(cases.Fold().String(strings.TrimSpace(loginName)))
}

// ValidateName checks a login name: a one-line text of at most
// domain.MaxName characters as received (R34), required after trimming,
// without spaces. Errors are INVALID_INPUT, field loginName.
func ValidateName(loginName string) (string, error) {
	if err := domain.CheckLine("loginName", loginName, domain.MaxName); err != nil {
		return "", err
	}
	name := strings.TrimSpace(loginName)
	if name == "" {
		return "", domain.InvalidInput("loginName", "loginName is required")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return "", domain.InvalidInput("loginName", "loginName must not contain spaces")
	}
	return name, nil
}

// State is the claim on one login name.
type State struct {
	name   string
	userID string
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case LoginNameClaimed:
		s.name, s.userID = e.LoginName, e.UserID
	case LoginNameReleased:
		s.userID = ""
	}
}

// ClaimedBy is the user holding the name, "" when free.
func (s *State) ClaimedBy() string { return s.userID }

// Claim claims the name for userID: INVALID_INPUT for an invalid name,
// ALREADY_EXISTS (field loginName) when it is claimed.
func (s *State) Claim(loginName, userID string) ([]domain.Event, error) {
	name, err := ValidateName(loginName)
	if err != nil {
		return nil, err
	}
	if s.userID != "" {
		return nil, domain.AlreadyExists("loginName", "login name is taken")
	}
	return []domain.Event{LoginNameClaimed{LoginName: name, UserID: userID}}, nil
}

// Release frees the name held by userID; it changes nothing when userID does
// not hold it.
func (s *State) Release(userID string) ([]domain.Event, error) {
	if s.userID == "" || s.userID != userID {
		return nil, nil
	}
	return []domain.Event{LoginNameReleased{LoginName: s.name, UserID: userID}}, nil
}
