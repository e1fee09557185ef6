// Package model holds the GraphQL types; gqlgen generates most of them
// (models_gen.go), these carry what their field resolvers need.
package model

// Tenant is a tenant row; mailboxes, users, groups, server and policy are
// resolved on demand (R12/R19 decide who sees what).
type Tenant struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	SupportAddress *string `json:"supportAddress,omitempty"`
}

// User is a user row; groups and option lists are resolved on demand.
type User struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	LoginName   string `json:"loginName"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
	Blocked     bool   `json:"blocked"`
}

// Group is a group row; members are resolved on demand.
type Group struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

// Mailbox is a mailbox row; settings and grants are resolved on demand
// (R12: outside its tenant only address, name and flags show).
type Mailbox struct {
	ID            string `json:"id"`
	TenantID      string `json:"tenantId"`
	Address       string `json:"address"`
	DisplayName   string `json:"displayName"`
	Sender        bool   `json:"sender"`
	ReplyTo       bool   `json:"replyTo"`
	Global        bool   `json:"global"`
	Authenticated bool   `json:"authenticated"`
	Restricted    bool   `json:"restricted"`
}
