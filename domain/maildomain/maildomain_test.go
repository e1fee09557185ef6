package maildomain_test

import (
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/maildomain"
)

const token = "k3J9xQ2mP7vW1nR8"

var (
	added = maildomain.MailDomainAdded{DomainID: "d1", TenantID: "t1", Name: "bücher.example", ASCIIName: "xn--bcher-kva.example", VerificationToken: token}
	ok    = maildomain.MailDomainVerified{DomainID: "d1", TenantID: "t1", Method: maildomain.MethodDNS}
)

func ptr[T any](v T) *T { return &v }

func TestR26_AddMailDomain(t *testing.T) {
	for _, tc := range []struct {
		rule, name string
		want       *maildomain.MailDomainAdded
		field      string
	}{
		{"R26 name IDNA-normalised and lower-cased", "BÜCHER.Example", &added, ""},
		{"R26 punycode input gives the same domain", "xn--bcher-kva.EXAMPLE", &added, ""},
		{"R26 surrounding space trimmed", " bücher.example ", &added, ""},
		{"R26 one label is not a mail domain", "localhost", nil, "name"},
		{"R26 IP address refused", "192.0.2.1", nil, "name"},
		{"R26 trailing dot refused", "bücher.example.", nil, "name"},
		{"R26 label with underscore refused", "a_b.example", nil, "name"},
		{"R26 empty", "", nil, "name"},
		{"R34 control character refused", "bücher.example\x00", nil, "name"},
		{"R34 longer than 1000 characters", strings.Repeat("a", 996) + ".example", nil, "name"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			events, err := maildomain.Add(Given[maildomain.State](), maildomain.AddMailDomain{DomainID: "d1", TenantID: "t1", Name: tc.name, Token: token})
			if tc.want == nil {
				ThenError(t, events, err, domain.ErrInvalidInput, tc.field)
				return
			}
			ThenEvents(t, events, err, *tc.want)
			s := Given[maildomain.State](events...)
			if s.Verified() || s.Maintenance() || s.VerificationRecord() != "absender-verification="+token {
				t.Fatalf("got verified %v maintenance %v record %q, want a new unverified domain with its record", s.Verified(), s.Maintenance(), s.VerificationRecord())
			}
			if _, limited := s.Quota(); limited {
				t.Fatalf("got a quota, want unlimited by default (R26)")
			}
		})
	}
	t.Run("a bad token is the caller's bug, not INVALID_INPUT", func(t *testing.T) {
		if _, err := maildomain.Add(Given[maildomain.State](), maildomain.AddMailDomain{DomainID: "d1", Name: "x.example", Token: "short"}); err == nil {
			t.Fatal("got no error, want one")
		}
	})
}

func TestR26_VerifyByDNS(t *testing.T) {
	for _, tc := range []struct {
		rule  string
		given []domain.Event
		txt   []string
		want  []domain.Event
		err   error
	}{
		{"R26 the right record verifies", []domain.Event{added}, []string{"v=spf1 -all", "absender-verification=" + token}, []domain.Event{ok}, nil},
		{"R26 a wrong token does not", []domain.Event{added}, []string{"absender-verification=wrongtoken123456"}, nil, domain.ErrInvalidInput},
		{"R26 no record does not", []domain.Event{added}, nil, nil, domain.ErrInvalidInput},
		{"R26 the token is case-sensitive", []domain.Event{added}, []string{"absender-verification=K3J9XQ2MP7VW1NR8"}, nil, domain.ErrInvalidInput},
		{"R26 verified stays verified", []domain.Event{added, ok}, nil, nil, nil},
		{"R26 a removed domain is not found", []domain.Event{added, maildomain.MailDomainRemoved{DomainID: "d1", TenantID: "t1"}}, nil, nil, domain.ErrNotFound},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			s := Given[maildomain.State](tc.given...)
			events, err := maildomain.VerifyByDNS(s, tc.txt)
			if tc.err != nil {
				ThenError(t, events, err, tc.err, "")
				Unchanged(t, s, tc.given...)
				return
			}
			ThenEvents(t, events, err, tc.want...)
		})
	}
}

func TestR26_R32_SettingsOfADomain(t *testing.T) {
	d1 := func(e domain.Event) []domain.Event { return []domain.Event{e} }
	for _, tc := range []struct {
		rule  string
		given []domain.Event
		when  func(*maildomain.State) ([]domain.Event, error)
		want  []domain.Event
		err   error
		field string
	}{
		{"R26 administrator verifies", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetVerified(s, true) },
			d1(maildomain.MailDomainVerified{DomainID: "d1", TenantID: "t1", Method: maildomain.MethodAdministrator}), nil, ""},
		{"R26 administrator withdraws verification", []domain.Event{added, ok}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetVerified(s, false) },
			d1(maildomain.MailDomainUnverified{DomainID: "d1", TenantID: "t1"}), nil, ""},
		{"R26 quota 0", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetQuota(s, ptr(0)) },
			d1(maildomain.MailDomainQuotaSet{DomainID: "d1", TenantID: "t1", Quota: ptr(0)}), nil, ""},
		{"R26 quota back to unlimited", []domain.Event{added, maildomain.MailDomainQuotaSet{DomainID: "d1", TenantID: "t1", Quota: ptr(5)}},
			func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetQuota(s, nil) },
			d1(maildomain.MailDomainQuotaSet{DomainID: "d1", TenantID: "t1"}), nil, ""},
		{"R26 same quota changes nothing", []domain.Event{added, maildomain.MailDomainQuotaSet{DomainID: "d1", TenantID: "t1", Quota: ptr(5)}},
			func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetQuota(s, ptr(5)) }, nil, nil, ""},
		{"R26 negative quota", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetQuota(s, ptr(-1)) }, nil, domain.ErrInvalidInput, "quota"},
		{"R26 huge quota", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) {
			return maildomain.SetQuota(s, ptr(maildomain.MaxQuota+1))
		}, nil, domain.ErrInvalidInput, "quota"},
		{"R32 maintenance on", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetMaintenance(s, true) },
			d1(maildomain.MailDomainMaintenanceSet{DomainID: "d1", TenantID: "t1", Maintenance: true}), nil, ""},
		{"R32 maintenance off when off changes nothing", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetMaintenance(s, false) }, nil, nil, ""},
		{"R28 catch-all to an external address", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) {
			return maildomain.SetCatchAll(s, "Info@Other.example")
		},
			d1(maildomain.MailDomainCatchAllSet{DomainID: "d1", TenantID: "t1", Target: "Info@other.example", TargetKey: "info@other.example"}), nil, ""},
		{"R28 catch-all cleared", []domain.Event{added, maildomain.MailDomainCatchAllSet{DomainID: "d1", TenantID: "t1", Target: "a@b.example", TargetKey: "a@b.example"}},
			func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetCatchAll(s, "") },
			d1(maildomain.MailDomainCatchAllSet{DomainID: "d1", TenantID: "t1"}), nil, ""},
		{"R28 catch-all must be an address", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetCatchAll(s, "not an address") }, nil, domain.ErrInvalidInput, "target"},
		{"R34 catch-all with a line break", []domain.Event{added}, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetCatchAll(s, "a@b.example\r\n") }, nil, domain.ErrInvalidInput, "target"},
		{"removed", []domain.Event{added}, maildomain.Remove, d1(maildomain.MailDomainRemoved{DomainID: "d1", TenantID: "t1"}), nil, ""},
		{"unknown domain", nil, func(s *maildomain.State) ([]domain.Event, error) { return maildomain.SetMaintenance(s, true) }, nil, domain.ErrNotFound, ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			s := Given[maildomain.State](tc.given...)
			events, err := tc.when(s)
			if tc.err != nil {
				ThenError(t, events, err, tc.err, tc.field)
				Unchanged(t, s, tc.given...)
				return
			}
			ThenEvents(t, events, err, tc.want...)
		})
	}
}
