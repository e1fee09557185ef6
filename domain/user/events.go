package user

import "github.com/absender/absender/domain"

// UserCreated: a user of a tenant was created (R18).
type UserCreated struct {
	UserID      string      `json:"userId"`
	TenantID    string      `json:"tenantId"`
	LoginName   string      `json:"loginName"`
	DisplayName string      `json:"displayName"`
	Email       string      `json:"email"`
	EmailKey    string      `json:"emailKey"`
	Role        domain.Role `json:"role"`
}

// UserUpdated: the fields that changed; nil fields did not.
type UserUpdated struct {
	UserID      string       `json:"userId"`
	TenantID    string       `json:"tenantId"`
	DisplayName *string      `json:"displayName,omitempty"`
	Email       *string      `json:"email,omitempty"`
	EmailKey    *string      `json:"emailKey,omitempty"`
	Role        *domain.Role `json:"role,omitempty"`
}

// UserBlockedChanged: the user was blocked or unblocked (R20).
type UserBlockedChanged struct {
	UserID   string `json:"userId"`
	TenantID string `json:"tenantId"`
	Blocked  bool   `json:"blocked"`
}

// UserDeleted: the user was deleted; its history stays (R18).
type UserDeleted struct {
	UserID   string `json:"userId"`
	TenantID string `json:"tenantId"`
}

// UserJoinedGroup mirrors group.GroupMemberAdded on the user stream.
type UserJoinedGroup struct {
	UserID   string `json:"userId"`
	TenantID string `json:"tenantId"`
	GroupID  string `json:"groupId"`
}

// UserLeftGroup mirrors group.GroupMemberRemoved on the user stream.
type UserLeftGroup struct {
	UserID   string `json:"userId"`
	TenantID string `json:"tenantId"`
	GroupID  string `json:"groupId"`
}

// UserMailboxGranted mirrors mailbox.MailboxUserGranted on the user stream.
type UserMailboxGranted struct {
	UserID    string `json:"userId"`
	TenantID  string `json:"tenantId"`
	MailboxID string `json:"mailboxId"`
}

// UserMailboxRevoked mirrors mailbox.MailboxUserRevoked on the user stream.
type UserMailboxRevoked struct {
	UserID    string `json:"userId"`
	TenantID  string `json:"tenantId"`
	MailboxID string `json:"mailboxId"`
}

func (UserCreated) EventName() string        { return "UserCreated.v1" }
func (UserUpdated) EventName() string        { return "UserUpdated.v1" }
func (UserBlockedChanged) EventName() string { return "UserBlockedChanged.v1" }
func (UserDeleted) EventName() string        { return "UserDeleted.v1" }
func (UserJoinedGroup) EventName() string    { return "UserJoinedGroup.v1" }
func (UserLeftGroup) EventName() string      { return "UserLeftGroup.v1" }
func (UserMailboxGranted) EventName() string { return "UserMailboxGranted.v1" }
func (UserMailboxRevoked) EventName() string { return "UserMailboxRevoked.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{UserCreated{}, UserUpdated{}, UserBlockedChanged{}, UserDeleted{},
		UserJoinedGroup{}, UserLeftGroup{}, UserMailboxGranted{}, UserMailboxRevoked{}}
}
