// Package history answers questions about the configuration as it was at
// any time: a user's option lists then, and who could use a mailbox then.
// It replays the events up to that time into a pure in-memory model of the
// directory and asks the same domain/options code the live read models
// use, so past and present can never disagree (a test compares the two at
// every tenth position of a generated history). Snapshots of each tenant's
// model keep a query from replaying years of history.
package history

import (
	"maps"
	"sort"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// Model is the directory as far as option lists need it.
type Model struct {
	system     system.Facts
	sysSender  [2]string // address, name of the system server's settings
	tenants    map[string]*tenantState
	users      map[string]*userState
	groups     map[string]map[string]bool // group → member ids
	mailboxes  map[string]*mailboxState
	userGroups map[string]map[string]bool // user → group ids
	position   int64
}

type tenantState struct {
	name      string
	policy    tenant.Policy
	hasServer bool
	sender    [2]string
}

type userState struct {
	id, tenantID, loginName, displayName, email, emailKey string
	role                                                  domain.Role
	blocked                                               bool
}

type mailboxState struct {
	c          options.Candidate
	users      map[string]bool
	groups     map[string]bool
	restricted *bool // the last MailboxRestrictionChanged's value; nil: none yet
}

// isRestricted is R11 as the mailbox aggregate says it.
func (mb *mailboxState) isRestricted() bool {
	return mailbox.IsRestricted(mb.restricted, len(mb.users)+len(mb.groups))
}

// NewModel returns the empty directory.
func NewModel() *Model {
	return &Model{tenants: map[string]*tenantState{}, users: map[string]*userState{}, groups: map[string]map[string]bool{},
		mailboxes: map[string]*mailboxState{}, userGroups: map[string]map[string]bool{}}
}

// Position is the global position of the last event applied.
func (m *Model) Position() int64 { return m.position }

// Clone returns a deep copy (a snapshot).
func (m *Model) Clone() *Model {
	c := &Model{system: m.system, sysSender: m.sysSender, position: m.position,
		tenants: make(map[string]*tenantState, len(m.tenants)), users: make(map[string]*userState, len(m.users)),
		groups: make(map[string]map[string]bool, len(m.groups)), mailboxes: make(map[string]*mailboxState, len(m.mailboxes)),
		userGroups: make(map[string]map[string]bool, len(m.userGroups))}
	for k, v := range m.tenants {
		t := *v
		c.tenants[k] = &t
	}
	for k, v := range m.users {
		u := *v
		c.users[k] = &u
	}
	for k, v := range m.groups {
		c.groups[k] = maps.Clone(v)
	}
	for k, v := range m.userGroups {
		c.userGroups[k] = maps.Clone(v)
	}
	for k, v := range m.mailboxes {
		c.mailboxes[k] = &mailboxState{c: v.c, users: maps.Clone(v.users), groups: maps.Clone(v.groups), restricted: v.restricted}
	}
	return c
}

func senderOf(s domain.ServerSettings) [2]string { return [2]string{s.SenderAddress, s.SenderName} }

// viewer builds the options.Viewer of a user (false when it does not
// exist at this point of history).
func (m *Model) viewer(userID string) (options.Viewer, bool) {
	u := m.users[userID]
	if u == nil {
		return options.Viewer{}, false
	}
	return options.Viewer{UserID: u.id, TenantID: u.tenantID, DisplayName: u.displayName, Email: u.email, EmailKey: u.emailKey,
		Role: u.role, Blocked: u.blocked, Active: true}, true
}

// tenantFacts are the R1–R3 and R8 facts of a tenant.
func (m *Model) tenantFacts(tenantID string) options.Tenant {
	t := m.tenants[tenantID]
	if t == nil {
		return options.Tenant{ID: tenantID, Transport: domain.TransportNone}
	}
	out := options.Tenant{ID: tenantID, Policy: t.policy, Transport: tenant.ResolveTransport(m.system, t.hasServer, t.policy)}
	switch out.Transport {
	case domain.TransportTenantServer:
		out.SystemMailboxAddress, out.SystemMailboxName = t.sender[0], t.sender[1]
	case domain.TransportSystemServer:
		out.SystemMailboxAddress, out.SystemMailboxName = m.sysSender[0], m.sysSender[1]
	}
	return out
}

// candidate is a mailbox as the viewer sees it: restricted or not, and
// whether the viewer holds a grant directly or through a group.
func (m *Model) candidate(mb *mailboxState, userID string) options.Candidate {
	c := mb.c
	c.Restricted = mb.isRestricted()
	c.Granted = mb.users[userID]
	for g := range m.userGroups[userID] {
		if mb.groups[g] {
			c.Granted = true
		}
	}
	return c
}

// Options is a user's sender or reply-to list at this point of history.
func (m *Model) Options(kind options.Kind, userID string) []options.Option {
	v, ok := m.viewer(userID)
	if !ok {
		return nil
	}
	cs := make([]options.Candidate, 0, len(m.mailboxes))
	for _, mb := range m.mailboxes {
		cs = append(cs, m.candidate(mb, userID))
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Seq < cs[j].Seq })
	return options.Compute(kind, v, m.tenantFacts(v.TenantID), cs)
}

// MailboxAccess lists the users who could use a mailbox at this point of
// history (R11, R12, R20), by id.
func (m *Model) MailboxAccess(mailboxID string) []string {
	mb := m.mailboxes[mailboxID]
	if mb == nil {
		return nil
	}
	var out []string
	for id := range m.users {
		v, _ := m.viewer(id)
		if options.Usable(v, m.candidate(mb, id)) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// UserIDs lists the users of a tenant at this point of history.
func (m *Model) UserIDs(tenantID string) []string {
	var out []string
	for id, u := range m.users {
		if u.tenantID == tenantID {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// TenantExists reports whether a tenant existed at this point.
func (m *Model) TenantExists(tenantID string) bool { return m.tenants[tenantID] != nil }

// User is a user as it was at this point of history.
type User struct {
	ID, TenantID, LoginName, DisplayName, Email string
	Role                                        domain.Role
	Blocked                                     bool
}

// User returns a user at this point of history.
func (m *Model) User(id string) (User, bool) {
	u := m.users[id]
	if u == nil {
		return User{}, false
	}
	return User{ID: u.id, TenantID: u.tenantID, LoginName: u.loginName, DisplayName: u.displayName, Email: u.email,
		Role: u.role, Blocked: u.blocked}, true
}
