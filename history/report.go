package history

import (
	"sort"
	"time"

	"github.com/absender/absender/domain/options"
)

// Report is a tenant's configuration and every user's option lists as of
// a time, for `absender history`.
type Report struct {
	At                 time.Time       `json:"at"`
	Position           int64           `json:"position"`
	TenantID           string          `json:"tenantId"`
	Exists             bool            `json:"exists"`
	Name               string          `json:"name,omitempty"`
	EffectiveTransport string          `json:"effectiveTransport"`
	SystemMailbox      string          `json:"systemMailbox,omitempty"`
	AllowSystemServer  bool            `json:"allowSystemServer"`
	AllowOwnServer     bool            `json:"allowOwnServer"`
	OwnServer          bool            `json:"ownServer"`
	MailboxQuota       int             `json:"mailboxQuota"`
	UserAddressSender  bool            `json:"userAddressAsSender"`
	DuplicatePolicy    string          `json:"duplicatePolicy,omitempty"`
	Mailboxes          []ReportMailbox `json:"mailboxes"`
	Users              []ReportUser    `json:"users"`
}

// ReportMailbox is a mailbox of the tenant then, with who could use it.
type ReportMailbox struct {
	ID            string   `json:"id"`
	Address       string   `json:"address"`
	DisplayName   string   `json:"displayName"`
	Sender        bool     `json:"sender"`
	ReplyTo       bool     `json:"replyTo"`
	Global        bool     `json:"global"`
	Authenticated bool     `json:"authenticated"`
	Restricted    bool     `json:"restricted"`
	UsableBy      []string `json:"usableBy"`
}

// ReportUser is a user then, with its option lists.
type ReportUser struct {
	ID             string         `json:"id"`
	LoginName      string         `json:"loginName"`
	DisplayName    string         `json:"displayName"`
	Email          string         `json:"email"`
	Role           string         `json:"role"`
	Blocked        bool           `json:"blocked"`
	SenderOptions  []ReportOption `json:"senderOptions"`
	ReplyToOptions []ReportOption `json:"replyToOptions"`
}

// ReportOption is one address option.
type ReportOption struct {
	Address     string `json:"address"`
	DisplayName string `json:"displayName"`
	Source      string `json:"source"`
	MailboxID   string `json:"mailboxId,omitempty"`
	Transport   string `json:"transport"`
}

// Report describes tenantID at this point of history.
func (m *Model) Report(tenantID string, at time.Time) Report {
	r := Report{At: at.UTC(), Position: m.position, TenantID: tenantID, Mailboxes: []ReportMailbox{}, Users: []ReportUser{}}
	t := m.tenants[tenantID]
	facts := m.tenantFacts(tenantID)
	r.EffectiveTransport = facts.Transport.String()
	if t == nil {
		return r
	}
	r.Exists, r.Name, r.OwnServer = true, t.name, t.hasServer
	r.SystemMailbox = facts.SystemMailboxAddress
	p := t.policy
	r.AllowSystemServer, r.AllowOwnServer, r.MailboxQuota = p.AllowSystemServer, p.AllowOwnServer, p.MailboxQuota
	r.UserAddressSender, r.DuplicatePolicy = p.UserAddressAsSender, p.DuplicatePolicy.String()
	var ids []string
	for id, mb := range m.mailboxes {
		if mb.c.TenantID == tenantID {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return m.mailboxes[ids[i]].c.Seq < m.mailboxes[ids[j]].c.Seq })
	for _, id := range ids {
		mb := m.mailboxes[id]
		usable := m.MailboxAccess(id)
		if usable == nil {
			usable = []string{}
		}
		r.Mailboxes = append(r.Mailboxes, ReportMailbox{ID: id, Address: mb.c.Address, DisplayName: mb.c.DisplayName, Sender: mb.c.Sender,
			ReplyTo: mb.c.ReplyTo, Global: mb.c.Global, Authenticated: mb.c.Authenticated, Restricted: mb.isRestricted(),
			UsableBy: usable})
	}
	for _, id := range m.UserIDs(tenantID) {
		u, _ := m.User(id)
		r.Users = append(r.Users, ReportUser{ID: id, LoginName: u.LoginName, DisplayName: u.DisplayName, Email: u.Email,
			Role: u.Role.String(), Blocked: u.Blocked, SenderOptions: reportOptions(m.Options(options.Sender, id)),
			ReplyToOptions: reportOptions(m.Options(options.ReplyTo, id))})
	}
	return r
}

func reportOptions(opts []options.Option) []ReportOption {
	out := make([]ReportOption, len(opts))
	for i, o := range opts {
		out[i] = ReportOption{Address: o.Address, DisplayName: o.DisplayName, Source: o.Source.String(), MailboxID: o.MailboxID, Transport: o.Transport.String()}
	}
	return out
}
