package message

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
)

// Rules of a resolution: which rule chose the transport.
const (
	RuleMailbox      = "R16: authenticated mailbox with the From address"
	RuleTenantServer = "R2: tenant server"
	RuleSystemServer = "R2: system server"
	RuleTestMail     = "R6: test mail to verify the settings"
)

// Resolution explains what sends a message and why (R23): the rule that
// matched, every candidate skipped on the way with the reason, the grant
// that allowed the From address, and the version of every configuration
// stream read, so an attempt can prove nothing changed since.
type Resolution struct {
	Rule      string               `json:"rule"`
	Transport domain.TransportKind `json:"transport"`
	MailboxID string               `json:"mailboxId,omitempty"`
	Skipped   []Skipped            `json:"skipped"`
	GrantedBy string               `json:"grantedBy,omitempty"`
	// Grant is the grant event that allowed the From address (R23), nil
	// when no grant did (an open mailbox, the system mailbox, the user's
	// own address) and in resolutions recorded before it was.
	Grant *GrantRef `json:"grant,omitempty"`
	// SMTPUTF8 is the resolved transport's smtpUtf8 flag (R5).
	SMTPUTF8 bool `json:"smtpUtf8"`
	// FromName is the display name the From address is sent with.
	FromName string `json:"fromName,omitempty"`
	// Versions maps each configuration stream read to its version.
	Versions map[string]int64 `json:"versions"`
}

// Skipped is a candidate transport or mailbox not used, and why.
type Skipped struct {
	Candidate string `json:"candidate"`
	Reason    string `json:"reason"`
}

// Equal reports whether two resolutions send the same way from the same
// configuration.
func (r Resolution) Equal(o Resolution) bool {
	return r.Rule == o.Rule && r.Transport == o.Transport && r.MailboxID == o.MailboxID &&
		r.GrantedBy == o.GrantedBy && equalGrant(r.Grant, o.Grant) && r.SMTPUTF8 == o.SMTPUTF8 && r.FromName == o.FromName &&
		slices.Equal(r.Skipped, o.Skipped) && maps.Equal(r.Versions, o.Versions)
}

func equalGrant(a, b *GrantRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// GrantRef names the grant event that allowed a From address: the user or
// the group it granted the mailbox to, when, and its position in the log.
type GrantRef struct {
	UserID   string    `json:"userId,omitempty"`
	GroupID  string    `json:"groupId,omitempty"`
	At       time.Time `json:"at"`
	Position string    `json:"position"`
}

// Grant says how the viewer may use a restricted mailbox, for the
// explanation: a direct grant or a group's, with the event that granted it.
type Grant struct {
	// Description names the grantee in plain words, e.g. "direct grant to
	// the user".
	Description string
	// Ref is the grant event (nil when it was not found).
	Ref *GrantRef
}

// Facts are what a resolution reads, gathered by the caller from the
// current configuration.
type Facts struct {
	System          system.Facts
	SystemSettings  *domain.ServerSettings // nil when not configured
	Tenant          options.Tenant         // Transport already resolved by tenant.ResolveTransport
	TenantSettings  *domain.ServerSettings // the tenant server, nil when none is stored
	Viewer          options.Viewer
	Candidates      []options.Candidate // the mailboxes with the From or Reply-To address
	MailboxSettings map[string]domain.ServerSettings
	MailboxNames    map[string]string // mailbox id → address, for explanations
	Grants          map[string]Grant  // mailbox id → the viewer's grant
	Versions        map[string]int64
}

// Request is what is resolved: the From and Reply-To of a queued message.
type Request struct {
	Kind    Kind
	From    Mailbox
	ReplyTo *Mailbox
	// FromNamed says the From was given as "Name <address>": the name
	// must then be one of the options' names (R17).
	FromNamed, ReplyToNamed bool
}

// Resolve decides what sends a message of the viewer (R17 then R16 with
// R1–R3 on top) and explains it. The error, nil on success, is a
// *domain.Error with the code SENDING_DISABLED, FROM_NOT_ALLOWED or
// REPLY_TO_NOT_ALLOWED, returned with the resolution so far (its skipped
// candidates say why).
func Resolve(req Request, f Facts) (Resolution, error) {
	res := Resolution{Versions: f.Versions, Skipped: []Skipped{}}
	res.Skipped = append(res.Skipped, serverSkips(f)...)
	if f.Tenant.Transport == domain.TransportNone || f.Tenant.Transport == (domain.TransportKind{}) {
		res.Transport = domain.TransportNone
		return res, &domain.Error{Code: domain.CodeSendingDisabled, Message: "mail sending is unavailable for this tenant: " + describeSkips(res.Skipped)}
	}
	if !f.Viewer.Active || f.Viewer.Blocked {
		return res, &domain.Error{Code: domain.CodeFromNotAllowed, Message: "the sender is blocked or deleted (R20)"}
	}
	fromKey := domain.AddressKey(req.From.Address)
	opt, ok := pick(options.Compute(options.Sender, f.Viewer, f.Tenant, f.Candidates), fromKey, req.From.Name, req.FromNamed)
	if !ok {
		return res, &domain.Error{Code: domain.CodeFromNotAllowed, Field: "from", Message: req.From.String() + " is not one of the sender's From options"}
	}
	res.FromName = opt.DisplayName
	if req.FromNamed {
		res.FromName = req.From.Name
	}
	if req.ReplyTo != nil && req.Kind == KindMessage {
		if _, ok := pick(options.Compute(options.ReplyTo, f.Viewer, f.Tenant, f.Candidates), domain.AddressKey(req.ReplyTo.Address), req.ReplyTo.Name, req.ReplyToNamed); !ok {
			return res, &domain.Error{Code: domain.CodeReplyToNotAllowed, Field: "replyTo", Message: req.ReplyTo.String() + " is not one of the sender's Reply-To options"}
		}
	}
	res.GrantedBy = grantedBy(opt, f)
	if g, ok := f.Grants[opt.MailboxID]; ok && opt.MailboxID != "" && g.Ref != nil {
		ref := *g.Ref
		res.Grant = &ref
	}
	kind, mailboxID := options.TransportOf(req.From.Address, f.Viewer, f.Tenant, f.Candidates)
	res.Transport, res.MailboxID = kind, mailboxID
	switch kind {
	case domain.TransportMailbox:
		res.Rule = RuleMailbox
		res.SMTPUTF8 = f.MailboxSettings[mailboxID].SMTPUTF8
	case domain.TransportTenantServer:
		res.Rule = RuleTenantServer
		res.SMTPUTF8 = f.TenantSettings != nil && f.TenantSettings.SMTPUTF8
	case domain.TransportSystemServer:
		res.Rule = RuleSystemServer
		res.SMTPUTF8 = f.SystemSettings != nil && f.SystemSettings.SMTPUTF8
	}
	res.Skipped = append(res.Skipped, mailboxSkips(fromKey, mailboxID, f)...)
	return res, nil
}

// ResolveTest resolves a test mail (R6): its target, whatever R1–R3 say.
// The error, nil on success, is a *domain.Error SENDING_DISABLED when the
// target has no settings any more.
func ResolveTest(t Target, f Facts) (Resolution, error) {
	res := Resolution{Rule: RuleTestMail, Transport: t.Transport, MailboxID: t.MailboxID, Versions: f.Versions, Skipped: []Skipped{}}
	var s *domain.ServerSettings
	switch t.Transport {
	case domain.TransportSystemServer:
		s = f.SystemSettings
	case domain.TransportTenantServer:
		s = f.TenantSettings
	case domain.TransportMailbox:
		if ms, ok := f.MailboxSettings[t.MailboxID]; ok {
			s = &ms
		}
	}
	if s == nil {
		return res, &domain.Error{Code: domain.CodeSendingDisabled, Message: "the test mail's server is no longer configured"}
	}
	res.SMTPUTF8, res.FromName = s.SMTPUTF8, s.SenderName
	return res, nil
}

// pick finds the option for an address key; a given name must be one of
// the names the options for that address show (R17).
func pick(opts []options.Option, key, name string, named bool) (options.Option, bool) {
	for _, o := range opts {
		if o.AddressKey == key && (!named || o.DisplayName == name) {
			return o, true
		}
	}
	return options.Option{}, false
}

func grantedBy(o options.Option, f Facts) string {
	switch {
	case o.Source == options.SourceSystemMailbox:
		return "system mailbox of the tenant's server (R8)"
	case o.MailboxID == "":
		return "the user's own address (userAddressAsSender, R13)"
	}
	if g, ok := f.Grants[o.MailboxID]; ok {
		return g.Description
	}
	for _, c := range f.Candidates {
		if c.MailboxID == o.MailboxID && c.TenantID != f.Viewer.TenantID {
			return "global mailbox " + c.Address + " without grants (R12)"
		}
	}
	return "mailbox " + f.MailboxNames[o.MailboxID] + " without grants: open to the tenant's users (R11)"
}

// serverSkips explains why servers before the resolved one were passed over.
func serverSkips(f Facts) []Skipped {
	var out []Skipped
	switch {
	case !f.System.Configured:
		out = append(out, Skipped{"system server", "not configured: nothing is sent (R1)"})
	case !f.System.Enabled:
		out = append(out, Skipped{"system server", "disabled: nothing is sent (R1)"})
	}
	if !f.System.Usable() {
		return out
	}
	p := f.Tenant.Policy
	switch {
	case f.TenantSettings == nil:
		out = append(out, Skipped{"tenant server", "not configured"})
	case !p.AllowOwnServer:
		out = append(out, Skipped{"tenant server", "ignored: the tenant policy does not allow own servers (R3)"})
	}
	if f.Tenant.Transport == domain.TransportNone && !p.AllowSystemServer {
		out = append(out, Skipped{"system server", "the tenant policy does not allow the system server (R3)"})
	}
	if f.Tenant.Transport == domain.TransportTenantServer {
		out = append(out, Skipped{"system server", "the tenant's own server takes precedence (R2)"})
	}
	return out
}

// mailboxSkips explains why mailboxes with the From address do not send it.
func mailboxSkips(fromKey, chosen string, f Facts) []Skipped {
	var out []Skipped
	cs := slices.Clone(f.Candidates)
	slices.SortFunc(cs, func(a, b options.Candidate) int { return strings.Compare(a.MailboxID, b.MailboxID) })
	for _, c := range cs {
		key := c.AddressKey
		if key == "" {
			key = domain.AddressKey(c.Address)
		}
		if key != fromKey || c.MailboxID == chosen {
			continue
		}
		name := "mailbox " + c.Address + " (" + c.MailboxID + ")"
		var reason string
		switch {
		case c.TenantID != f.Viewer.TenantID && !c.Global:
			reason = "belongs to another tenant and is not global (R12)"
		case !options.Usable(f.Viewer, c) && c.Restricted:
			reason = "restricted to its grantees; the user holds no grant, directly or through a group (R11)"
		case !options.Usable(f.Viewer, c):
			reason = "not shared with external users (R11)"
		case !c.Authenticated:
			reason = "has no own server settings (R16)"
		case chosen != "":
			reason = "another mailbox with this address takes precedence: the own tenant's, then the older (R15, R16)"
		default:
			reason = "not used"
		}
		out = append(out, Skipped{name, reason})
	}
	return out
}

func describeSkips(s []Skipped) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.Candidate + " " + x.Reason
	}
	return strings.Join(parts, "; ")
}
