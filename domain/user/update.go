package user

import "github.com/absender/absender/domain"

// Update mirrors updateUser: nil fields stay as they are.
type Update struct {
	DisplayName *string
	Email       *string
	Role        *domain.Role
}

// Update changes display name, e-mail address and role; UserUpdated holds
// only what changed. INVALID_INPUT in schema order: displayName, email,
// role (only tenant roles, R18).
func (s *State) Update(cmd Update) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	e := UserUpdated{UserID: s.id, TenantID: s.tenantID}
	changed := false
	if cmd.DisplayName != nil {
		name, err := validDisplayName(*cmd.DisplayName)
		if err != nil {
			return nil, err
		}
		if name != s.displayName {
			e.DisplayName, changed = &name, true
		}
	}
	if cmd.Email != nil {
		a, err := domain.NormalizeAddress(*cmd.Email)
		if err != nil {
			return nil, domain.WithField(err, "email")
		}
		if email, key := a.String(), a.Key(); email != s.email {
			e.Email, e.EmailKey, changed = &email, &key, true
		}
	}
	if cmd.Role != nil {
		if !cmd.Role.IsTenantRole() {
			return nil, domain.InvalidInput("role", "a user has a tenant role")
		}
		if role := *cmd.Role; role != s.role {
			e.Role, changed = &role, true
		}
	}
	if !changed {
		return nil, nil
	}
	return []domain.Event{e}, nil
}
