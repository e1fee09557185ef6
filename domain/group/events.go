package group

import "github.com/absender/absender/domain"

// GroupCreated: a group of a tenant was created.
type GroupCreated struct {
	GroupID  string `json:"groupId"`
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

// GroupDeleted: the group was deleted; its history stays (R18).
type GroupDeleted struct {
	GroupID  string `json:"groupId"`
	TenantID string `json:"tenantId"`
}

// GroupMemberAdded: the user joined the group.
type GroupMemberAdded struct {
	GroupID  string `json:"groupId"`
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

// GroupMemberRemoved: the user left the group.
type GroupMemberRemoved struct {
	GroupID  string `json:"groupId"`
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

// GroupMailboxGranted mirrors mailbox.MailboxGroupGranted on the group stream.
type GroupMailboxGranted struct {
	GroupID   string `json:"groupId"`
	TenantID  string `json:"tenantId"`
	MailboxID string `json:"mailboxId"`
}

// GroupMailboxRevoked mirrors mailbox.MailboxGroupRevoked on the group stream.
type GroupMailboxRevoked struct {
	GroupID   string `json:"groupId"`
	TenantID  string `json:"tenantId"`
	MailboxID string `json:"mailboxId"`
}

func (GroupCreated) EventName() string        { return "GroupCreated.v1" }
func (GroupDeleted) EventName() string        { return "GroupDeleted.v1" }
func (GroupMemberAdded) EventName() string    { return "GroupMemberAdded.v1" }
func (GroupMemberRemoved) EventName() string  { return "GroupMemberRemoved.v1" }
func (GroupMailboxGranted) EventName() string { return "GroupMailboxGranted.v1" }
func (GroupMailboxRevoked) EventName() string { return "GroupMailboxRevoked.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{GroupCreated{}, GroupDeleted{}, GroupMemberAdded{}, GroupMemberRemoved{},
		GroupMailboxGranted{}, GroupMailboxRevoked{}}
}
