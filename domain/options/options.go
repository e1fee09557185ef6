// Package options computes one user's From (sender) and Reply-To option
// lists (R13, R14) with their duplicates resolved (R15) and their transports
// (R16), from facts the caller has gathered: the viewer, the viewer's tenant
// and the mailboxes that might be usable. It is pure — no I/O, no clock — so
// the read models (candidates fetched by SQL) and history replay (facts
// rebuilt from events) compute the same lists.
//
// Decisions where the SPEC is silent:
//   - R15 does not need userAddressAsSender. When a mailbox listed for U has
//     U's own address, the duplicate policy decides how that address is shown
//     whether or not userAddressAsSender is on: seed 001 ("Doppelungen der
//     Postfächer") says that in the default configuration — where
//     userAddressAsSender is off — the user's e-mail is selectable with the
//     user's name and the mailbox's name is hidden. No address is offered
//     that the mailbox does not already offer. userAddressAsSender only adds
//     U's own address where no listed mailbox has it.
//   - R15 looks at the mailboxes listed in this list (usable and with the
//     sender, or replyTo, flag), not at every usable mailbox: PREFER_MAILBOX
//     must not bring a mailbox into a list whose flag it lacks.
//   - A USER option carries a mailboxId exactly when it stands for a listed
//     mailbox (R15), under PREFER_USER and under SHOW_BOTH alike: under
//     SHOW_BOTH both options name the mailbox and differ in display name and
//     source only. U's own address without such a mailbox has no mailboxId,
//     even when R16 sends it through an authenticated mailbox that is not
//     listed (its Transport then says MAILBOX; TransportOf names the mailbox).
//   - R16 considers every authenticated mailbox U may use, whatever its sender
//     and replyTo flags: the From address decides the transport, not the list
//     it was picked from. Every option's Transport is TransportOf its address.
//   - When U's own address equals the system mailbox's address and no listed
//     mailbox has it, the system mailbox option is listed, not a USER one:
//     both send through the tenant's server, and the system mailbox is what
//     the tenant configured.
//   - A system mailbox without an address (a server without sender address)
//     is not listed. A zero Tenant.Transport counts as NONE.
//   - A viewer that is blocked, inactive or without a tenant uses nothing
//     (R20): empty lists, and TransportOf says NONE.
//   - Options with equal display name and address (SHOW_BOTH with equal
//     names) are ordered MAILBOX before USER.
package options

import (
	"cmp"
	"slices"

	"golang.org/x/text/cases"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
)

// Kind says which list is computed: From (R13) or Reply-To (R14). The zero
// Kind lists nothing.
type Kind struct{ s string }

// The kinds of option lists.
var (
	Sender  = Kind{"SENDER"}
	ReplyTo = Kind{"REPLY_TO"}
)

func (k Kind) String() string { return k.s }

// offers reports whether a mailbox's flags put it into a list of kind k.
func (k Kind) offers(c Candidate) bool {
	switch k {
	case Sender:
		return c.Sender
	case ReplyTo:
		return c.ReplyTo
	}
	return false
}

// Source says where an option comes from (SPEC §4 enum OptionSource).
type Source struct{ s string }

// The option sources.
var (
	SourceSystemMailbox = Source{"SYSTEM_MAILBOX"}
	SourceMailbox       = Source{"MAILBOX"}
	SourceUser          = Source{"USER"}
)

func (s Source) String() string { return s.s }

// MarshalText encodes the enum name.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero value.
func (s *Source) UnmarshalText(b []byte) error {
	for _, v := range []Source{{}, SourceSystemMailbox, SourceMailbox, SourceUser} {
		if v.s == string(b) {
			*s = v
			return nil
		}
	}
	return domain.InvalidInput("source", "unknown option source "+string(b))
}

// Option is one entry of a From or Reply-To drop-down (SPEC §4 AddressOption).
type Option struct {
	Address     string // display form
	AddressKey  string // comparison key (domain.AddressKey)
	DisplayName string
	Source      Source
	MailboxID   string // set for MAILBOX, and for USER when it stands for a listed mailbox (R15)
	Transport   domain.TransportKind
}

// Viewer is the user whose options are computed.
type Viewer struct {
	UserID      string
	TenantID    string
	DisplayName string
	Email       string
	EmailKey    string // domain.AddressKey(Email); computed when empty
	Role        domain.Role
	Blocked     bool
	Active      bool // the user exists and is not deleted
}

// Tenant is what the option lists need of the viewer's tenant.
type Tenant struct {
	ID     string
	Policy tenant.Policy
	// Transport is the tenant's effective transport (R1–R3,
	// tenant.ResolveTransport); NONE when sending is unavailable.
	Transport domain.TransportKind
	// SystemMailboxAddress and SystemMailboxName are the sender address and
	// name of the server the tenant resolves to (R8); empty when Transport
	// is NONE.
	SystemMailboxAddress string
	SystemMailboxName    string
}

// Candidate is a mailbox that might be usable by the viewer: the read model
// passes its tenant's mailboxes and the global mailboxes of other tenants.
type Candidate struct {
	MailboxID     string
	TenantID      string
	Address       string
	AddressKey    string // domain.AddressKey(Address); computed when empty
	DisplayName   string
	Sender        bool
	ReplyTo       bool
	Global        bool
	Authenticated bool  // has own server settings (R9)
	Restricted    bool  // usable by grantees only, whether or not any may use it (R11, mailbox.IsRestricted)
	Granted       bool  // the viewer holds a direct grant or is a member of a granted group
	Seq           int64 // creation order (global log position of MailboxAdded): lower is older
}

func (c Candidate) key() string {
	if c.AddressKey != "" {
		return c.AddressKey
	}
	return domain.AddressKey(c.Address)
}

func (v Viewer) key() string {
	if v.EmailKey != "" {
		return v.EmailKey
	}
	if v.Email == "" {
		return ""
	}
	return domain.AddressKey(v.Email)
}

// canAct reports whether the viewer may use anything at all (R20).
func (v Viewer) canAct() bool {
	return v.Active && !v.Blocked && v.TenantID != ""
}

// sendingAvailable reports whether the tenant can send at all (R1, R2).
func (t Tenant) sendingAvailable() bool {
	return t.Transport != domain.TransportNone && t.Transport != (domain.TransportKind{})
}

// Usable reports whether the viewer may use the mailbox: R11 (access within
// the tenant), R12 (global mailboxes across tenants) and R20 (a blocked or
// inactive viewer uses nothing).
func Usable(v Viewer, c Candidate) bool {
	if !v.canAct() {
		return false
	}
	if c.TenantID != v.TenantID && !c.Global {
		return false
	}
	if c.Restricted {
		return c.Granted
	}
	return v.Role != domain.RoleExternal
}

// precedes reports whether mailbox a wins over mailbox b with the same
// address (R15, R16): the viewer's own tenant's first, then the older.
func precedes(v Viewer, a, b Candidate) bool {
	if ownA, ownB := a.TenantID == v.TenantID, b.TenantID == v.TenantID; ownA != ownB {
		return ownA
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.MailboxID < b.MailboxID
}

// TransportOf resolves what sends mail From the given address (in any form)
// for the viewer (R16): an authenticated mailbox the viewer may use whose
// address equals it — the own tenant's first, then the oldest global one —
// sends it (MAILBOX, with the mailbox's id); else the tenant's resolved
// transport. R1 and R2 apply on top: when the tenant cannot send, or the
// viewer may use nothing (R20), the answer is NONE.
func TransportOf(from string, v Viewer, t Tenant, cs []Candidate) (domain.TransportKind, string) {
	return transportOf(domain.AddressKey(from), v, t, cs)
}

func transportOf(key string, v Viewer, t Tenant, cs []Candidate) (domain.TransportKind, string) {
	if !t.sendingAvailable() || !v.canAct() {
		return domain.TransportNone, ""
	}
	var best *Candidate
	for i := range cs {
		c := &cs[i]
		if c.Authenticated && c.key() == key && Usable(v, *c) && (best == nil || precedes(v, *c, *best)) {
			best = c
		}
	}
	if best != nil {
		return domain.TransportMailbox, best.MailboxID
	}
	return t.Transport, ""
}

// Compute returns the viewer's From (R13) or Reply-To (R14) options: the
// system mailbox (R8), every usable mailbox (R11, R12) with the list's flag,
// and the viewer's own address under userAddressAsSender. It lists nothing
// when the tenant cannot send (R1, R2) or the viewer is blocked or inactive
// (R20). Duplicates and order follow R15, transports R16.
func Compute(k Kind, v Viewer, t Tenant, cs []Candidate) []Option {
	if !t.sendingAvailable() || !v.canAct() {
		return nil
	}
	listed := map[string]Candidate{} // address key → the mailbox that wins it
	for _, c := range cs {
		if !k.offers(c) || !Usable(v, c) {
			continue
		}
		if cur, ok := listed[c.key()]; !ok || precedes(v, c, cur) {
			listed[c.key()] = c
		}
	}

	userKey := v.key()
	var opts []Option
	for key, c := range listed {
		if key == userKey && userKey != "" {
			opts = append(opts, duplicates(t.Policy.DuplicatePolicy, v, c)...)
		} else {
			opts = append(opts, mailboxOption(c))
		}
	}
	sysKey := ""
	if t.SystemMailboxAddress != "" {
		sysKey = domain.AddressKey(t.SystemMailboxAddress)
	}
	if _, ok := listed[userKey]; !ok && userKey != "" && userKey != sysKey && t.Policy.UserAddressAsSender {
		opts = append(opts, Option{Address: v.Email, AddressKey: userKey, DisplayName: v.DisplayName, Source: SourceUser})
	}
	fold := cases.Fold() // a Caser may be stateful: one per call
	slices.SortFunc(opts, func(a, b Option) int { return compareOptions(fold, a, b) })
	if _, ok := listed[sysKey]; !ok && sysKey != "" {
		sys := Option{Address: t.SystemMailboxAddress, AddressKey: sysKey,
			DisplayName: t.SystemMailboxName, Source: SourceSystemMailbox}
		opts = slices.Insert(opts, 0, sys)
	}
	for i := range opts {
		opts[i].Transport, _ = transportOf(opts[i].AddressKey, v, t, cs)
	}
	return opts
}

func mailboxOption(c Candidate) Option {
	return Option{Address: c.Address, AddressKey: c.key(), DisplayName: c.DisplayName,
		Source: SourceMailbox, MailboxID: c.MailboxID}
}

// duplicates lists the viewer's own address and the listed mailbox c that
// has it, as the tenant's duplicate policy says (R15). The zero policy is
// the default, PREFER_USER.
func duplicates(p tenant.DuplicatePolicy, v Viewer, c Candidate) []Option {
	mb := mailboxOption(c)
	user := Option{Address: v.Email, AddressKey: mb.AddressKey, DisplayName: v.DisplayName,
		Source: SourceUser, MailboxID: c.MailboxID}
	switch p {
	case tenant.PreferMailbox:
		return []Option{mb}
	case tenant.ShowBoth:
		return []Option{mb, user}
	default:
		return []Option{user}
	}
}

// compareOptions orders options other than the system mailbox (R15): by
// case-folded display name, then by address; MAILBOX before USER for the
// same address and name.
func compareOptions(fold cases.Caser, a, b Option) int {
	return cmp.Or(
		cmp.Compare(fold.String(a.DisplayName), fold.String(b.DisplayName)),
		cmp.Compare(a.AddressKey, b.AddressKey),
		cmp.Compare(a.Address, b.Address),
		cmp.Compare(sourceRank(a.Source), sourceRank(b.Source)),
		cmp.Compare(a.DisplayName, b.DisplayName),
		cmp.Compare(a.MailboxID, b.MailboxID),
	)
}

func sourceRank(s Source) int {
	switch s {
	case SourceSystemMailbox:
		return 0
	case SourceMailbox:
		return 1
	}
	return 2
}
