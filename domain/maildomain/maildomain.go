// Package maildomain is the mail domain aggregate of R26, R28 (catch-all)
// and R32: a customer's own domain with its DNS verification, address
// quota, maintenance flag and catch-all target.
//
// The deciders hold the domain's rules; who may call them (the owner, a
// system administrator) is the caller's check, as is what spans
// aggregates: system-wide uniqueness of the name (MailDomainAdded carries
// ASCIIName as its key), whether a catch-all target that is an address of
// the domain is an account, and loop detection (package inbound).
//
// Decisions where the SPEC is silent:
//   - The verification token is made by the caller (random) and checked
//     here: 16 to 64 characters of A–Z, a–z, 0–9, "-" and "_".
//   - A DNS check that does not find the record is INVALID_INPUT naming
//     domainId; verifying a verified domain, and setting what is already
//     set, changes nothing.
//   - A quota below the number of existing accounts is allowed: it stops
//     new accounts, it removes none.
package maildomain

import (
	"fmt"
	"strings"

	"github.com/absender/absender/domain"
)

// RecordPrefix starts the TXT record of R26.
const RecordPrefix = "absender-verification="

// Ways a domain gets verified (MailDomainVerified.Method).
const (
	MethodDNS           = "dns"
	MethodAdministrator = "administrator"
)

// State is a mail domain, rebuilt from its events.
type State struct {
	id, tenantID string
	name, ascii  string
	token        string
	verified     bool
	quota        *int
	maintenance  bool
	catchAll     string
	catchAllKey  string
	added, gone  bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case MailDomainAdded:
		*s = State{id: e.DomainID, tenantID: e.TenantID, name: e.Name, ascii: e.ASCIIName, token: e.VerificationToken, added: true}
	case MailDomainVerified:
		s.verified = true
	case MailDomainUnverified:
		s.verified = false
	case MailDomainQuotaSet:
		s.quota = nil
		if e.Quota != nil {
			q := *e.Quota
			s.quota = &q
		}
	case MailDomainMaintenanceSet:
		s.maintenance = e.Maintenance
	case MailDomainCatchAllSet:
		s.catchAll, s.catchAllKey = e.Target, e.TargetKey
	case MailDomainRemoved:
		s.gone = true
	}
}

// Exists reports whether the domain was added and not removed.
func (s *State) Exists() bool { return s.added && !s.gone }

// ID is the domain id.
func (s *State) ID() string { return s.id }

// TenantID is the owning tenant.
func (s *State) TenantID() string { return s.tenantID }

// Name is the lower-case Unicode name.
func (s *State) Name() string { return s.name }

// ASCIIName is the lower-case punycode name.
func (s *State) ASCIIName() string { return s.ascii }

// Verified reports whether the domain receives mail (R26).
func (s *State) Verified() bool { return s.verified }

// VerificationRecord is the TXT record the owner publishes (R26).
func (s *State) VerificationRecord() string { return RecordPrefix + s.token }

// Quota is the address quota, ok=false when unlimited.
func (s *State) Quota() (quota int, ok bool) {
	if s.quota == nil {
		return 0, false
	}
	return *s.quota, true
}

// Maintenance reports the maintenance flag (R32).
func (s *State) Maintenance() bool { return s.maintenance }

// CatchAll is the catch-all target's display form and key, "" when none.
func (s *State) CatchAll() (target, key string) { return s.catchAll, s.catchAllKey }

func (s *State) mustExist() error {
	if !s.Exists() {
		return domain.NotFound("mail domain")
	}
	return nil
}

// AddMailDomain mirrors addMailDomain; DomainID and Token come from the caller.
type AddMailDomain struct {
	DomainID string
	TenantID string
	Name     string
	Token    string
}

// Add adds a domain (R26): the name IDNA-normalised and lower-cased, a
// valid host name of at least two labels (INVALID_INPUT naming name),
// unverified, unlimited, not in maintenance.
func Add(s *State, cmd AddMailDomain) ([]domain.Event, error) {
	if s.added {
		return nil, domain.AlreadyExists("domainId", "the domain id is taken")
	}
	ascii, uni, err := domain.NormalizeDomain("name", cmd.Name)
	if err != nil {
		return nil, err
	}
	if !validToken(cmd.Token) {
		return nil, fmt.Errorf("maildomain: verification token %q: want 16 to 64 of A-Z a-z 0-9 - _", cmd.Token)
	}
	return []domain.Event{MailDomainAdded{DomainID: cmd.DomainID, TenantID: cmd.TenantID, Name: uni, ASCIIName: ascii, VerificationToken: cmd.Token}}, nil
}

func validToken(t string) bool {
	if len(t) < 16 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// VerifyByDNS verifies the domain when one of the TXT records found at
// its name is exactly its verification record (R26; surrounding space
// ignored, as resolvers join a record's strings). Not found:
// INVALID_INPUT naming domainId.
func VerifyByDNS(s *State, txt []string) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if s.verified {
		return nil, nil
	}
	want := s.VerificationRecord()
	for _, r := range txt {
		if strings.TrimSpace(r) == want {
			return []domain.Event{MailDomainVerified{DomainID: s.id, TenantID: s.tenantID, Method: MethodDNS}}, nil
		}
	}
	return nil, domain.InvalidInput("domainId", fmt.Sprintf("no DNS TXT record %q found at %s", want, s.ascii))
}

// SetVerified is a system administrator's verification or its withdrawal (R26).
func SetVerified(s *State, verified bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	switch {
	case verified == s.verified:
		return nil, nil
	case verified:
		return []domain.Event{MailDomainVerified{DomainID: s.id, TenantID: s.tenantID, Method: MethodAdministrator}}, nil
	}
	return []domain.Event{MailDomainUnverified{DomainID: s.id, TenantID: s.tenantID}}, nil
}

// MaxQuota bounds an address quota.
const MaxQuota = 1_000_000

// SetQuota sets the address quota (R26): nil is unlimited, else 0 to
// MaxQuota (INVALID_INPUT naming quota).
func SetQuota(s *State, quota *int) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if quota != nil && (*quota < 0 || *quota > MaxQuota) {
		return nil, domain.InvalidInput("quota", fmt.Sprintf("must be 0 to %d, or empty for unlimited", MaxQuota))
	}
	if (quota == nil) == (s.quota == nil) && (quota == nil || *quota == *s.quota) {
		return nil, nil
	}
	var q *int
	if quota != nil {
		v := *quota
		q = &v
	}
	return []domain.Event{MailDomainQuotaSet{DomainID: s.id, TenantID: s.tenantID, Quota: q}}, nil
}

// SetMaintenance switches maintenance (R32).
func SetMaintenance(s *State, on bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if on == s.maintenance {
		return nil, nil
	}
	return []domain.Event{MailDomainMaintenanceSet{DomainID: s.id, TenantID: s.tenantID, Maintenance: on}}, nil
}

// SetCatchAll names the catch-all target (R28): a valid address
// (INVALID_INPUT naming target) — an account of the domain or an external
// address, which the caller checks together with loops (inbound.Loops) —,
// or "" for none.
func SetCatchAll(s *State, target string) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	var display, key string
	if target != "" {
		a, err := domain.NormalizeAddress(target)
		if err != nil {
			return nil, domain.WithField(err, "target")
		}
		display, key = a.String(), a.Key()
	}
	if key == s.catchAllKey {
		return nil, nil
	}
	return []domain.Event{MailDomainCatchAllSet{DomainID: s.id, TenantID: s.tenantID, Target: display, TargetKey: key}}, nil
}

// Remove removes the domain; its accounts are removed by the caller in the same step.
func Remove(s *State) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	return []domain.Event{MailDomainRemoved{DomainID: s.id, TenantID: s.tenantID}}, nil
}
