package catalog_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	"github.com/absender/absender/domain/catalog"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/maildomain"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

var versioned = regexp.MustCompile(`^[A-Z][A-Za-z]+\.v[1-9][0-9]*$`)

func TestEventNamesAreUniqueAndVersioned(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range catalog.Events() {
		name := e.EventName()
		if !versioned.MatchString(name) {
			t.Errorf("%T: name %q does not look like Name.v<N>", e, name)
		}
		if seen[name] {
			t.Errorf("%T: name %q is used twice", e, name)
		}
		seen[name] = true
		if reflect.TypeOf(e).Kind() != reflect.Struct {
			t.Errorf("%T: want a plain struct value", e)
		}
	}
}

// samples are populated events; together with the zero values of every
// event they must survive encoding/json unchanged.
func samples() []domain.Event {
	role := domain.RoleAdministrator
	name := "Max"
	quota := 0
	at := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
	settings := &domain.ServerSettings{Host: "smtp.celanio.com", Port: 587, Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthPassword, Username: "u", Password: "enc:pw", SenderAddress: "welcome@celanio.com", SenderName: "celanio GmbH", SMTPUTF8: true}
	return []domain.Event{
		tenant.TenantCreated{TenantID: "t1", Name: "celanio GmbH", Policy: tenant.DefaultPolicy()},
		user.UserUpdated{UserID: "u1", TenantID: "t1", DisplayName: &name, Role: &role},
		user.UserCreated{UserID: "u1", TenantID: "t1", LoginName: "max", Role: domain.RoleEmployee},
		mailbox.MailboxAdded{MailboxID: "m1", TenantID: "t1", Address: "welcome@celanio.com", Settings: settings},
		mailbox.MailboxGlobalChanged{MailboxID: "m1", TenantID: "t1", RevokedUsers: []string{"u9"}, RevokedGroups: []string{"g9"}},
		maildomain.MailDomainQuotaSet{DomainID: "d1", TenantID: "t1", Quota: &quota},
		account.AccountCreated{AccountID: "a1", DomainID: "d1", TenantID: "t1", LocalPart: "max", Address: "max@celanio.com",
			AddressKey: "max@celanio.com", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", ForwardTo: []string{"a@b.example"}, KeepCopy: true},
		account.AutoReplySaved{AccountID: "a1", AutoReplyID: "r1", Name: "Urlaub", Subject: "s", Body: "b\r\n", StartsAt: &at, EndsAt: &at,
			Weekdays: []int{1, 7}, TimeZone: "Europe/Berlin", Exclusions: []string{"@x.example"}, AlternateSender: "info@celanio.com"},
		account.AutoReplySent{AccountID: "a1", AutoReplyID: "r1", SenderKey: "eve@x.example", SentAt: at},
		token.ApiTokenIssued{TokenID: "k1", Role: domain.RoleSystemAdmin, Name: "cli", SecretHash: token.Hash("s"), IssuedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
}

func TestEventsRoundTripThroughJSON(t *testing.T) {
	for _, e := range append(catalog.Events(), samples()...) {
		t.Run(e.EventName(), func(t *testing.T) {
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			p := reflect.New(reflect.TypeOf(e))
			if err := json.Unmarshal(data, p.Interface()); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if got := p.Elem().Interface(); !reflect.DeepEqual(got, e) {
				t.Fatalf("got %#v, want %#v (json %s)", got, e, data)
			}
		})
	}
}
