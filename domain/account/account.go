// Package account is the hosted account of R27–R29: local@domain on a
// mail domain of the tenant, its password (rules and an argon2id hash;
// only the hash ever enters an event), forwarding and auto-replies with
// their 7-day memory.
//
// The deciders hold the account's rules; who may call them is the
// caller's check (owner and system administrators; password changes also
// administrators, seed 004), as is what spans aggregates: the domain
// exists and belongs to the tenant, the local part is unique on the
// domain and no mailbox of the tenant has the address (ALREADY_EXISTS),
// R30's 50-a-day limit, the domain's quota, an alternate sender being an
// address of the tenant, and forwarding loops (package inbound).
//
// Decisions where the SPEC is silent:
//   - keepCopy defaults to true; forwarding to nobody without a copy is
//     INVALID_INPUT naming keepCopy (the mail would vanish).
//   - Forwarding to the account's own address is INVALID_INPUT naming to
//     (the smallest loop, found without the routing facts).
//   - Saving an auto-reply keeps its active flag; an account has at most
//     50 auto-replies.
package account

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/absender/absender/domain"
)

// MaxForwards bounds an account's forwarding targets (R28).
const MaxForwards = 10

// State is an account, rebuilt from its events.
type State struct {
	id, domainID, tenantID string
	localPart              string
	address, addressKey    string
	passwordHash           string
	forwardTo              []string
	keepCopy               bool
	replies                []AutoReply
	replied                map[string]time.Time // sender key → last reply since the last reset
	created, deleted       bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case AccountCreated:
		*s = State{id: e.AccountID, domainID: e.DomainID, tenantID: e.TenantID, localPart: e.LocalPart, address: e.Address,
			addressKey: e.AddressKey, passwordHash: e.PasswordHash, forwardTo: slices.Clone(e.ForwardTo), keepCopy: e.KeepCopy,
			replied: map[string]time.Time{}, created: true}
	case AccountPasswordChanged:
		s.passwordHash = e.PasswordHash
	case AccountForwardingSet:
		s.forwardTo, s.keepCopy = slices.Clone(e.ForwardTo), e.KeepCopy
	case AccountDeleted:
		s.deleted = true
	case AutoReplySaved:
		if i := s.reply(e.AutoReplyID); i >= 0 {
			s.replies[i] = fromSaved(e, s.replies[i].active)
		} else {
			s.replies = append(s.replies, fromSaved(e, false))
		}
	case AutoReplyDeleted:
		if i := s.reply(e.AutoReplyID); i >= 0 {
			s.replies = slices.Delete(s.replies, i, i+1)
		}
	case AutoReplyActiveSet:
		for i := range s.replies {
			if s.replies[i].id == e.AutoReplyID {
				s.replies[i].active = e.Active
			} else if e.Active {
				s.replies[i].active = false
			}
		}
	case AutoReplySent:
		if s.replied == nil {
			s.replied = map[string]time.Time{}
		}
		if e.SentAt.After(s.replied[e.SenderKey]) {
			s.replied[e.SenderKey] = e.SentAt
		}
	case AutoReplyMemoryReset:
		s.replied = map[string]time.Time{}
	}
}

func (s *State) reply(id string) int {
	return slices.IndexFunc(s.replies, func(r AutoReply) bool { return r.id == id })
}

// Exists reports whether the account was created and not deleted.
func (s *State) Exists() bool { return s.created && !s.deleted }

// ID is the account id.
func (s *State) ID() string { return s.id }

// DomainID is the account's mail domain.
func (s *State) DomainID() string { return s.domainID }

// TenantID is the owning tenant.
func (s *State) TenantID() string { return s.tenantID }

// Address is the account's address (display form), AddressKey its key.
func (s *State) Address() string { return s.address }

// AddressKey is the comparison key of the address.
func (s *State) AddressKey() string { return s.addressKey }

// PasswordHash is the argon2id PHC string.
func (s *State) PasswordHash() string { return s.passwordHash }

// Forwarding returns the forwarding targets and whether a copy is kept.
func (s *State) Forwarding() (to []string, keepCopy bool) {
	return slices.Clone(s.forwardTo), s.keepCopy
}

// AutoReplies returns the account's auto-replies in the order they were created.
func (s *State) AutoReplies() []AutoReply { return slices.Clone(s.replies) }

// ActiveAutoReply returns the active auto-reply, ok=false when none.
func (s *State) ActiveAutoReply() (AutoReply, bool) {
	for _, r := range s.replies {
		if r.active {
			return r, true
		}
	}
	return AutoReply{}, false
}

// Replied returns when the account last replied to the sender key since
// the last reset (R29), ok=false when never.
func (s *State) Replied(senderKey string) (time.Time, bool) {
	t, ok := s.replied[senderKey]
	return t, ok
}

func (s *State) mustExist() error {
	if !s.Exists() {
		return domain.NotFound("account")
	}
	return nil
}

// CreateAccount mirrors createAccount. The password was checked by
// NewPassword and hashed by a Hasher before the command is decided
// (outside any transaction); Domain is the ASCII name of the account's
// mail domain.
type CreateAccount struct {
	AccountID    string
	DomainID     string
	TenantID     string
	Domain       string
	LocalPart    string
	PasswordHash string
	ForwardTo    []string
	KeepCopy     *bool
}

// Create creates an account (R27): the local part lower-cased and valid
// as the local part of local@domain (INVALID_INPUT naming localPart), the
// forwarding as SetForwarding checks it.
func Create(s *State, cmd CreateAccount) ([]domain.Event, error) {
	if s.created {
		return nil, domain.AlreadyExists("id", "the account id is taken")
	}
	if err := domain.CheckLine("localPart", cmd.LocalPart, 64); err != nil {
		return nil, err
	}
	local := strings.ToLower(strings.TrimSpace(cmd.LocalPart))
	if local == "" || strings.Contains(local, "@") {
		return nil, domain.InvalidInput("localPart", "must be the part before the @")
	}
	a, err := domain.NormalizeAddress(local + "@" + cmd.Domain)
	if err != nil {
		return nil, domain.WithField(err, "localPart")
	}
	if err := checkHash(cmd.PasswordHash); err != nil {
		return nil, err
	}
	keep := true
	if cmd.KeepCopy != nil {
		keep = *cmd.KeepCopy
	}
	to, err := forwarding(a.Key(), cmd.ForwardTo, keep, "forwardTo")
	if err != nil {
		return nil, err
	}
	return []domain.Event{AccountCreated{AccountID: cmd.AccountID, DomainID: cmd.DomainID, TenantID: cmd.TenantID,
		LocalPart: a.LocalPart(), Address: a.String(), AddressKey: a.Key(), PasswordHash: cmd.PasswordHash, ForwardTo: to, KeepCopy: keep}}, nil
}

// checkHash refuses what is not an argon2id PHC string: a plain password
// must never reach an event.
func checkHash(h string) error {
	if _, _, _, err := decodeHash(h); err != nil {
		return fmt.Errorf("account: the password hash is not an argon2id PHC string: %w", err)
	}
	return nil
}

// ChangePassword stores a new password's hash (R27).
func ChangePassword(s *State, passwordHash string) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if err := checkHash(passwordHash); err != nil {
		return nil, err
	}
	return []domain.Event{AccountPasswordChanged{AccountID: s.id, DomainID: s.domainID, TenantID: s.tenantID, PasswordHash: passwordHash}}, nil
}

// SetForwarding sets the forwarding (R28): at most 10 valid addresses
// (duplicates by address key removed, INVALID_INPUT naming to), not the
// account itself, and a copy kept when there is none.
func SetForwarding(s *State, to []string, keepCopy bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	targets, err := forwarding(s.addressKey, to, keepCopy, "to")
	if err != nil {
		return nil, err
	}
	if slices.Equal(targets, s.forwardTo) && keepCopy == s.keepCopy {
		return nil, nil
	}
	return []domain.Event{AccountForwardingSet{AccountID: s.id, DomainID: s.domainID, TenantID: s.tenantID, ForwardTo: targets, KeepCopy: keepCopy}}, nil
}

// forwarding checks forward targets (R28) and returns their display forms.
func forwarding(self string, to []string, keepCopy bool, field string) ([]string, error) {
	if len(to) > MaxForwards {
		return nil, domain.InvalidInput(field, fmt.Sprintf("at most %d addresses", MaxForwards))
	}
	var out, keys []string
	for _, t := range to {
		a, err := domain.NormalizeAddress(t)
		if err != nil {
			return nil, domain.WithField(err, field)
		}
		if a.Key() == self {
			return nil, domain.InvalidInput(field, "an account cannot forward to itself")
		}
		if !slices.Contains(keys, a.Key()) {
			keys, out = append(keys, a.Key()), append(out, a.String())
		}
	}
	if len(out) == 0 && !keepCopy {
		return nil, domain.InvalidInput("keepCopy", "without forwarding the account must keep its mail")
	}
	return out, nil
}

// Delete deletes the account.
func Delete(s *State) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	return []domain.Event{AccountDeleted{AccountID: s.id, DomainID: s.domainID, TenantID: s.tenantID}}, nil
}

// SaveAutoReply mirrors saveAutoReply: Update names an existing
// auto-reply by AutoReplyID (NOT_FOUND otherwise); without it AutoReplyID
// is a new id from the caller.
type SaveAutoReply struct {
	AutoReplyID string
	Update      bool
	Input       AutoReplyInput
}

// SaveReply creates or replaces an auto-reply (R29), checked by NewAutoReply.
func SaveReply(s *State, cmd SaveAutoReply) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	exists := s.reply(cmd.AutoReplyID) >= 0
	switch {
	case cmd.Update && !exists:
		return nil, domain.NotFound("auto-reply")
	case !cmd.Update && exists:
		return nil, domain.AlreadyExists("id", "the auto-reply id is taken")
	case !cmd.Update && len(s.replies) >= MaxAutoReplies:
		return nil, domain.QuotaExceeded(fmt.Sprintf("an account keeps at most %d auto-replies", MaxAutoReplies))
	}
	r, err := NewAutoReply(cmd.AutoReplyID, cmd.Input)
	if err != nil {
		return nil, err
	}
	return []domain.Event{r.saved(s.id, s.tenantID)}, nil
}

// DeleteAutoReply deletes an auto-reply.
func DeleteAutoReply(s *State, id string) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if s.reply(id) < 0 {
		return nil, domain.NotFound("auto-reply")
	}
	return []domain.Event{AutoReplyDeleted{AccountID: s.id, TenantID: s.tenantID, AutoReplyID: id}}, nil
}

// SetAutoReplyActive activates or deactivates an auto-reply; activating
// one deactivates the others (R29: at most one is active).
func SetAutoReplyActive(s *State, id string, active bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	i := s.reply(id)
	if i < 0 {
		return nil, domain.NotFound("auto-reply")
	}
	if s.replies[i].active == active {
		return nil, nil
	}
	return []domain.Event{AutoReplyActiveSet{AccountID: s.id, TenantID: s.tenantID, AutoReplyID: id, Active: active}}, nil
}

// ResetAutoReplyMemory forgets whom the account replied to (R29).
func ResetAutoReplyMemory(s *State) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	return []domain.Event{AutoReplyMemoryReset{AccountID: s.id, TenantID: s.tenantID}}, nil
}
