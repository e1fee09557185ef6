package user

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/login"
)

// Create mirrors createUser. The caller has checked the tenant exists.
type Create struct {
	UserID      string
	TenantID    string
	LoginName   string
	DisplayName string
	Email       string
	Role        domain.Role
}

// Create creates the user and claims its login name (R18). claim is the
// state of the login stream login.StreamKey(cmd.LoginName). Checks in
// schema order: loginName, displayName, email, role (only tenant roles) are
// INVALID_INPUT; then a taken login name is ALREADY_EXISTS (field loginName).
func (s *State) Create(claim *login.State, cmd Create) (userEvents, loginEvents []domain.Event, err error) {
	if s.created {
		return nil, nil, domain.AlreadyExists("userId", "user exists")
	}
	name, err := login.ValidateName(cmd.LoginName)
	if err != nil {
		return nil, nil, err
	}
	displayName, err := validDisplayName(cmd.DisplayName)
	if err != nil {
		return nil, nil, err
	}
	email, err := domain.NormalizeAddress(cmd.Email)
	if err != nil {
		return nil, nil, domain.WithField(err, "email")
	}
	if !cmd.Role.IsTenantRole() {
		return nil, nil, domain.InvalidInput("role", "a user has a tenant role")
	}
	loginEvents, err = claim.Claim(name, cmd.UserID)
	if err != nil {
		return nil, nil, err
	}
	userEvents = []domain.Event{UserCreated{UserID: cmd.UserID, TenantID: cmd.TenantID, LoginName: name,
		DisplayName: displayName, Email: email.String(), EmailKey: email.Key(), Role: cmd.Role}}
	return userEvents, loginEvents, nil
}

func validDisplayName(s string) (string, error) { return domain.NewName("displayName", s) }
