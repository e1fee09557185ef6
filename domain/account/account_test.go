package account_test

import (
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	. "github.com/absender/absender/domain/internal/decidertest"
)

const hash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

var (
	created = account.AccountCreated{AccountID: "a1", DomainID: "d1", TenantID: "t1", LocalPart: "max.mustermann",
		Address: "max.mustermann@celanio.com", AddressKey: "max.mustermann@celanio.com", PasswordHash: hash, KeepCopy: true}
	vacation = account.AutoReplySaved{AccountID: "a1", TenantID: "t1", AutoReplyID: "r1", Name: "Urlaub", Subject: "Abwesend",
		Body: "Ich bin bis Montag nicht da.", TimeZone: "UTC"}
	sick = account.AutoReplySaved{AccountID: "a1", TenantID: "t1", AutoReplyID: "r2", Name: "Krank", Subject: "Krank", Body: "Krank.", TimeZone: "UTC"}
)

type when = func(*account.State) ([]domain.Event, error)

func TestR27_R28_CreateAccount(t *testing.T) {
	create := func(local string, forward []string, keep *bool, h string) account.CreateAccount {
		return account.CreateAccount{AccountID: "a1", DomainID: "d1", TenantID: "t1", Domain: "celanio.com", LocalPart: local, PasswordHash: h, ForwardTo: forward, KeepCopy: keep}
	}
	no := false
	for _, tc := range []struct {
		rule  string
		cmd   account.CreateAccount
		want  *account.AccountCreated
		field string
	}{
		{"R27 local part stored lower-cased, hash only", create("Max.Mustermann", nil, nil, hash), &created, ""},
		{"R28 created with forwarding, copy not kept", create("max.mustermann", []string{"Max@Other.example", "max@other.example"}, &no, hash),
			&account.AccountCreated{AccountID: "a1", DomainID: "d1", TenantID: "t1", LocalPart: "max.mustermann", Address: "max.mustermann@celanio.com",
				AddressKey: "max.mustermann@celanio.com", PasswordHash: hash, ForwardTo: []string{"Max@other.example"}}, ""},
		{"R27 local part with @", create("max@x", nil, nil, hash), nil, "localPart"},
		{"R27 local part with a space", create("max mustermann", nil, nil, hash), nil, "localPart"},
		{"R27 empty local part", create(" ", nil, nil, hash), nil, "localPart"},
		{"R34 local part with a control character", create("max\x7f", nil, nil, hash), nil, "localPart"},
		{"R34 local part longer than 64", create(strings.Repeat("m", 65), nil, nil, hash), nil, "localPart"},
		{"R28 forwarding target invalid", create("max", []string{"nobody"}, nil, hash), nil, "forwardTo"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			events, err := account.Create(Given[account.State](), tc.cmd)
			if tc.want == nil {
				ThenError(t, events, err, domain.ErrInvalidInput, tc.field)
				return
			}
			ThenEvents(t, events, err, *tc.want)
		})
	}
	t.Run("R27 a plain password never reaches an event", func(t *testing.T) {
		if events, err := account.Create(Given[account.State](), create("max", nil, nil, "Kx7#pqL2mv")); err == nil || events != nil {
			t.Fatalf("got %v, %v, want an error and no events", events, err)
		}
	})
}

func TestR27_R28_R29_AccountDeciders(t *testing.T) {
	one := func(e domain.Event) []domain.Event { return []domain.Event{e} }
	given := []domain.Event{created}
	withReplies := []domain.Event{created, vacation, sick}
	targets := func(n int) []string {
		var to []string
		for i := range n {
			to = append(to, "x"+strings.Repeat("y", i)+"@other.example")
		}
		return to
	}
	for _, tc := range []struct {
		rule  string
		given []domain.Event
		when  when
		want  []domain.Event
		err   error
		field string
	}{
		{"R27 password changed, hash only", given, func(s *account.State) ([]domain.Event, error) { return account.ChangePassword(s, hash) },
			one(account.AccountPasswordChanged{AccountID: "a1", DomainID: "d1", TenantID: "t1", PasswordHash: hash}), nil, ""},
		{"R27 a password that is not a hash is refused", given, func(s *account.State) ([]domain.Event, error) { return account.ChangePassword(s, "secret") }, nil, nil, "!"},
		{"R28 forwarding to ten addresses", given, func(s *account.State) ([]domain.Event, error) { return account.SetForwarding(s, targets(10), false) },
			one(account.AccountForwardingSet{AccountID: "a1", DomainID: "d1", TenantID: "t1", ForwardTo: targets(10)}), nil, ""},
		{"R28 eleven addresses are too many", given, func(s *account.State) ([]domain.Event, error) { return account.SetForwarding(s, targets(11), true) }, nil, domain.ErrInvalidInput, "to"},
		{"R28 an invalid address", given, func(s *account.State) ([]domain.Event, error) {
			return account.SetForwarding(s, []string{"a@b.example", "b@"}, true)
		}, nil, domain.ErrInvalidInput, "to"},
		{"R28 forwarding to itself is a loop", given, func(s *account.State) ([]domain.Event, error) {
			return account.SetForwarding(s, []string{"MAX.Mustermann@celanio.com"}, true)
		}, nil, domain.ErrInvalidInput, "to"},
		{"R28 no forwarding and no copy loses mail", given, func(s *account.State) ([]domain.Event, error) { return account.SetForwarding(s, nil, false) }, nil, domain.ErrInvalidInput, "keepCopy"},
		{"R28 the same forwarding changes nothing", given, func(s *account.State) ([]domain.Event, error) { return account.SetForwarding(s, nil, true) }, nil, nil, ""},
		{"deleted", given, account.Delete, one(account.AccountDeleted{AccountID: "a1", DomainID: "d1", TenantID: "t1"}), nil, ""},
		{"a deleted account is not found", []domain.Event{created, account.AccountDeleted{AccountID: "a1"}}, account.Delete, nil, domain.ErrNotFound, ""},
		{"R29 auto-reply saved", given, func(s *account.State) ([]domain.Event, error) {
			return account.SaveReply(s, account.SaveAutoReply{AutoReplyID: "r1", Input: account.AutoReplyInput{Name: " Urlaub ", Subject: "Abwesend", Body: "Ich bin bis Montag nicht da."}})
		}, one(vacation), nil, ""},
		{"R29 auto-reply replaced", withReplies, func(s *account.State) ([]domain.Event, error) {
			return account.SaveReply(s, account.SaveAutoReply{AutoReplyID: "r2", Update: true, Input: account.AutoReplyInput{Name: "Krank", Subject: "Krank", Body: "Krank.", TimeZone: "Europe/Berlin", Weekdays: []int{5, 1, 5}}})
		}, one(account.AutoReplySaved{AccountID: "a1", TenantID: "t1", AutoReplyID: "r2", Name: "Krank", Subject: "Krank", Body: "Krank.", TimeZone: "Europe/Berlin", Weekdays: []int{1, 5}}), nil, ""},
		{"R29 replacing an unknown auto-reply", given, func(s *account.State) ([]domain.Event, error) {
			return account.SaveReply(s, account.SaveAutoReply{AutoReplyID: "r9", Update: true, Input: account.AutoReplyInput{Name: "x", Subject: "x", Body: "x"}})
		}, nil, domain.ErrNotFound, ""},
		{"R29 auto-reply deleted", withReplies, func(s *account.State) ([]domain.Event, error) { return account.DeleteAutoReply(s, "r1") },
			one(account.AutoReplyDeleted{AccountID: "a1", TenantID: "t1", AutoReplyID: "r1"}), nil, ""},
		{"R29 activated", withReplies, func(s *account.State) ([]domain.Event, error) { return account.SetAutoReplyActive(s, "r2", true) },
			one(account.AutoReplyActiveSet{AccountID: "a1", TenantID: "t1", AutoReplyID: "r2", Active: true}), nil, ""},
		{"R29 activating the active one changes nothing", append(withReplies, account.AutoReplyActiveSet{AccountID: "a1", AutoReplyID: "r2", Active: true}),
			func(s *account.State) ([]domain.Event, error) { return account.SetAutoReplyActive(s, "r2", true) }, nil, nil, ""},
		{"R29 memory reset", given, account.ResetAutoReplyMemory, one(account.AutoReplyMemoryReset{AccountID: "a1", TenantID: "t1"}), nil, ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			s := Given[account.State](tc.given...)
			events, err := tc.when(s)
			switch {
			case tc.field == "!":
				if err == nil || events != nil {
					t.Fatalf("got %v, %v, want an error and no events", events, err)
				}
			case tc.err != nil:
				ThenError(t, events, err, tc.err, tc.field)
				Unchanged(t, s, tc.given...)
			default:
				ThenEvents(t, events, err, tc.want...)
			}
		})
	}
}

func TestR29_AtMostOneActive(t *testing.T) {
	s := Given[account.State](created, vacation, sick,
		account.AutoReplyActiveSet{AccountID: "a1", AutoReplyID: "r1", Active: true},
		account.AutoReplyActiveSet{AccountID: "a1", AutoReplyID: "r2", Active: true})
	active := 0
	for _, r := range s.AutoReplies() {
		if r.Active() {
			active++
		}
	}
	if r, ok := s.ActiveAutoReply(); !ok || r.ID() != "r2" || active != 1 {
		t.Fatalf("got active %q (%d active), want only r2", r.ID(), active)
	}
	Apply(s, account.AutoReplySaved{AccountID: "a1", AutoReplyID: "r2", Name: "Krank 2", Subject: "s", Body: "b", TimeZone: "UTC"})
	if r, ok := s.ActiveAutoReply(); !ok || r.Name() != "Krank 2" {
		t.Fatalf("got %q, %v, want the saved r2 still active", r.Name(), ok)
	}
}

func TestR29_MemoryInTheEventLog(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := Given[account.State](created, account.AutoReplySent{AccountID: "a1", AutoReplyID: "r1", SenderKey: "eve@x.example", SentAt: at})
	if got, ok := s.Replied("eve@x.example"); !ok || !got.Equal(at) {
		t.Fatalf("got %v, %v, want %v", got, ok, at)
	}
	Apply(s, account.AutoReplyMemoryReset{AccountID: "a1"})
	if _, ok := s.Replied("eve@x.example"); ok {
		t.Fatal("got a remembered reply after the reset, want none")
	}
}

func TestR29_R34_AutoReplyInput(t *testing.T) {
	base := account.AutoReplyInput{Name: "Urlaub", Subject: "Abwesend", Body: "Text"}
	start := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	before := start.Add(-time.Hour)
	for _, tc := range []struct {
		rule  string
		edit  func(*account.AutoReplyInput)
		field string
	}{
		{"R29 name required", func(in *account.AutoReplyInput) { in.Name = " " }, "name"},
		{"R34 name at most 200", func(in *account.AutoReplyInput) { in.Name = strings.Repeat("n", 201) }, "name"},
		{"R22 subject without CR/LF", func(in *account.AutoReplyInput) { in.Subject = "a\r\nBcc: x@y.example" }, "subject"},
		{"R34 body without NUL", func(in *account.AutoReplyInput) { in.Body = "a\x00" }, "body"},
		{"R29 body required", func(in *account.AutoReplyInput) { in.Body = "\n" }, "body"},
		{"R29 end after start", func(in *account.AutoReplyInput) { in.StartsAt, in.EndsAt = &start, &before }, "endsAt"},
		{"R29 weekday 0", func(in *account.AutoReplyInput) { in.Weekdays = []int{0} }, "weekdays"},
		{"R29 weekday 8", func(in *account.AutoReplyInput) { in.Weekdays = []int{8} }, "weekdays"},
		{"R29 unknown time zone", func(in *account.AutoReplyInput) { in.TimeZone = "Mars/Olympus" }, "timeZone"},
		{"R34 time zone as a path", func(in *account.AutoReplyInput) { in.TimeZone = "../../etc/passwd" }, "timeZone"},
		{"R29 exclusion neither address nor @domain", func(in *account.AutoReplyInput) { in.Exclusions = []string{"@"} }, "exclusions"},
		{"R29 too many exclusions", func(in *account.AutoReplyInput) { in.Exclusions = make([]string, 101) }, "exclusions"},
		{"R29 alternate sender must be an address", func(in *account.AutoReplyInput) { in.AlternateSender = "max" }, "alternateSender"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			in := base
			tc.edit(&in)
			_, err := account.NewAutoReply("r1", in)
			ThenError(t, nil, err, domain.ErrInvalidInput, tc.field)
		})
	}
	ok := base
	ok.TimeZone, ok.Weekdays, ok.Exclusions, ok.AlternateSender = "Europe/Berlin", []int{7, 1}, []string{"Boss@Celanio.com", "@Bücher.example"}, "info@celanio.com"
	if _, err := account.NewAutoReply("r1", ok); err != nil {
		t.Fatalf("got %v, want a valid auto-reply", err)
	}
}
