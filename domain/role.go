package domain

import "fmt"

// Role is a user's or token's role (SPEC §1). The zero Role is "no role";
// other values come only from the variables below or ParseRole, so a Role
// cannot hold an invalid value.
type Role struct{ s string }

// The roles. SYSTEM_ADMIN, AUDITOR and MAIL_SERVER exist without a tenant;
// the others are tenant roles.
var (
	RoleSystemAdmin         = Role{"SYSTEM_ADMIN"}
	RoleAuditor             = Role{"AUDITOR"}
	RoleMailServer          = Role{"MAIL_SERVER"}
	RoleLegalRepresentative = Role{"LEGAL_REPRESENTATIVE"}
	RoleAdministrator       = Role{"ADMINISTRATOR"}
	RoleEmployee            = Role{"EMPLOYEE"}
	RoleExternal            = Role{"EXTERNAL"}
)

// Roles lists every role in schema order.
func Roles() []Role {
	return []Role{RoleSystemAdmin, RoleAuditor, RoleMailServer,
		RoleLegalRepresentative, RoleAdministrator, RoleEmployee, RoleExternal}
}

// ParseRole parses the GraphQL enum name of a role.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if r.s == s {
			return r, nil
		}
	}
	return Role{}, InvalidInput("role", fmt.Sprintf("unknown role %q", s))
}

func (r Role) String() string { return r.s }

// IsZero reports whether r is the zero Role.
func (r Role) IsZero() bool { return r.s == "" }

// IsTenantRole reports whether r belongs to users of a tenant.
func (r Role) IsTenantRole() bool {
	return r == RoleLegalRepresentative || r == RoleAdministrator || r == RoleEmployee || r == RoleExternal
}

// IsSystemRole reports whether r exists without a tenant.
func (r Role) IsSystemRole() bool {
	return r == RoleSystemAdmin || r == RoleAuditor || r == RoleMailServer
}

// IsTenantAdmin reports whether r administers a tenant (the owner or an administrator).
func (r Role) IsTenantAdmin() bool {
	return r == RoleLegalRepresentative || r == RoleAdministrator
}

// MarshalText encodes the role as its enum name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero Role.
func (r *Role) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = Role{}
		return nil
	}
	p, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// Actor is who issues a command, where a rule inside an aggregate depends on
// it. System roles have an empty TenantID.
type Actor struct {
	UserID   string
	TenantID string
	Role     Role
}

// IsSystemAdmin reports whether the actor is a system administrator.
func (a Actor) IsSystemAdmin() bool { return a.Role == RoleSystemAdmin }

// IsTenantAdminOf reports whether the actor is the owner or an administrator of tenantID.
func (a Actor) IsTenantAdminOf(tenantID string) bool {
	return a.Role.IsTenantAdmin() && a.TenantID != "" && a.TenantID == tenantID
}

// IsOwnerOf reports whether the actor is the legal representative of tenantID.
func (a Actor) IsOwnerOf(tenantID string) bool {
	return a.Role == RoleLegalRepresentative && a.TenantID != "" && a.TenantID == tenantID
}
