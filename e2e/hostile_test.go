package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
)

// The hostile-input suite (R34, R22, R19): bad inputs across every
// mutation, sent over real HTTP on SQLite and PostgreSQL. Each is answered
// with a typed error — INVALID_INPUT naming the field for the domain's
// checks, any SPEC code but INTERNAL for wrong GraphQL types —, nothing is
// stored (the event count stays), and the server's log never shows a
// panic.

// hostileCase is one bad request. vars holds the variables; a string value
// containing badUTF8 is sent with that marker replaced by raw invalid
// UTF-8 bytes in the JSON body. field "" accepts any code but INTERNAL.
type hostileCase struct {
	name  string
	tok   string // "admin" or "user"
	query string
	vars  map[string]any
	field string
}

// badUTF8 marks where raw invalid UTF-8 goes into the JSON body.
const badUTF8 = "@@BAD-UTF8@@"

// lockedBuffer collects the server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hostileFixture is what the cases refer to.
type hostileFixture struct {
	tenantID, userID, groupID, mailboxID string
	userTok                              string
}

const (
	hCreateTenant   = `mutation($n:String!){ createTenant(name:$n){ id } }`
	hCreateUser     = `mutation($t:ID!,$l:String!,$d:String!,$e:String!){ createUser(tenantId:$t, loginName:$l, displayName:$d, email:$e, role:EMPLOYEE){ id } }`
	hUpdateUser     = `mutation($u:ID!,$d:String,$e:String){ updateUser(userId:$u, displayName:$d, email:$e){ id } }`
	hCreateGroup    = `mutation($t:ID!,$n:String!){ createGroup(tenantId:$t, name:$n){ id } }`
	hIssueToken     = `mutation($u:ID!,$n:String!){ issueApiToken(userId:$u, name:$n) }`
	hAddMailbox     = `mutation($t:ID!,$a:String!,$d:String!,$set:ServerSettingsInput){ addMailbox(tenantId:$t, address:$a, displayName:$d, sender:true, replyTo:true, settings:$set){ id } }`
	hUpdateMailbox  = `mutation($m:ID!,$d:String,$set:ServerSettingsInput){ updateMailbox(id:$m, displayName:$d, settings:$set){ id } }`
	hConfigSystem   = `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured } }`
	hConfigTenant   = `mutation($t:ID!,$i:ServerSettingsInput!){ configureTenantServer(tenantId:$t, input:$i){ id } }`
	hConfigSupport  = `mutation($a:String){ configureSupport(address:$a, allowTenantAddress:true, attachSystemInfo:false){ configured } }`
	hTenantSupport  = `mutation($t:ID!,$a:String){ setTenantSupportAddress(tenantId:$t, address:$a){ id } }`
	hSendMessage    = `mutation($i:SendMessageInput!){ sendMessage(input:$i){ id } }`
	hSendTestMail   = `mutation($to:String!){ sendTestMail(to:$to){ id } }`
	hSupportRequest = `mutation($s:String!,$b:String!){ submitSupportRequest(subject:$s, body:$b){ id } }`
	hSetPolicy      = `mutation($t:ID!,$q:Int){ setTenantPolicy(tenantId:$t, mailboxQuota:$q){ id } }`
)

// hostileCases builds the table: every text field of every mutation with
// NUL, C1, other control characters, CR/LF where one line is wanted,
// overlong values and raw invalid UTF-8; then wrong types and huge lists.
func hostileCases(fx hostileFixture) []hostileCase {
	var cases []hostileCase
	add := func(c hostileCase) { cases = append(cases, c) }

	// Hostile variants of a valid one-line value.
	type variant struct{ name, value string }
	line := func(valid string, max int) []variant {
		return []variant{
			{"NUL", valid + "\x00"},
			{"C1 NEL", valid + "\u0085"},
			{"C1 CSI", "\u009b" + valid},
			{"ESC", valid + "\x1b[2J"},
			{"LF", valid + "\nX-Injected: 1"},
			{"CR at the end, not trimmed", valid + "\r"},
			{"DEL", valid + "\x7f"},
			{"invalid UTF-8", valid + badUTF8},
			{fmt.Sprintf("%d characters", max+1), strings.Repeat("é", max+1)},
		}
	}
	addressVariants := func(valid string) []variant {
		at := strings.IndexByte(valid, '@')
		return []variant{
			{"NUL", valid + "\x00"},
			{"C1 in the local part", valid[:at] + "\u0085" + valid[at:]},
			{"LF header injection", valid + "\nBcc: victim@example.com"},
			{"invalid UTF-8", valid[:at] + badUTF8 + valid[at:]},
			{"255 octets", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 180) + ".example.com"},
			{"1,001 characters", strings.Repeat("a", 1001) + "@example.com"},
		}
	}
	// field adds the variants of one argument: vars(value) builds the
	// request's variables.
	field := func(mutation, fieldName, tok, query string, variants []variant, vars func(v string) map[string]any) {
		for _, v := range variants {
			add(hostileCase{name: mutation + " " + fieldName + " " + v.name, tok: tok, query: query, vars: vars(v.value), field: fieldName})
		}
	}

	field("createTenant", "name", "admin", hCreateTenant, line("Hostile GmbH", 200), func(v string) map[string]any {
		return map[string]any{"n": v}
	})
	field("createUser", "loginName", "admin", hCreateUser, line("hostile.login", 200), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "l": v, "d": "Hostile", "e": "hostile@example.com"}
	})
	field("createUser", "displayName", "admin", hCreateUser, line("Hostile", 200), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "l": "hostile.login.d", "d": v, "e": "hostile@example.com"}
	})
	field("createUser", "email", "admin", hCreateUser, addressVariants("hostile@example.com"), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "l": "hostile.login.e", "d": "Hostile", "e": v}
	})
	field("updateUser", "displayName", "admin", hUpdateUser, line("Renamed", 200)[:4], func(v string) map[string]any {
		return map[string]any{"u": fx.userID, "d": v}
	})
	field("updateUser", "email", "admin", hUpdateUser, addressVariants("renamed@example.com")[:3], func(v string) map[string]any {
		return map[string]any{"u": fx.userID, "e": v}
	})
	field("createGroup", "name", "admin", hCreateGroup, line("Vertrieb", 200), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "n": v}
	})
	field("issueApiToken", "name", "admin", hIssueToken, line("ci", 200)[:5], func(v string) map[string]any {
		return map[string]any{"u": fx.userID, "n": v}
	})
	field("addMailbox", "address", "admin", hAddMailbox, addressVariants("info@hostile.example"), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "a": v, "d": "Info"}
	})
	field("addMailbox", "displayName", "admin", hAddMailbox, line("Info", 200), func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "a": "info@hostile.example", "d": v}
	})
	field("updateMailbox", "displayName", "admin", hUpdateMailbox, line("Info", 200)[:4], func(v string) map[string]any {
		return map[string]any{"m": fx.mailboxID, "d": v}
	})

	// Server settings: every text field, through every mutation that takes them.
	settings := func() map[string]any {
		return map[string]any{"host": "smtp.hostile.example", "encryption": "STARTTLS", "auth": "PASSWORD",
			"username": "user", "password": "secret", "senderAddress": "noreply@hostile.example", "senderName": "Hostile"}
	}
	graphSettings := func() map[string]any {
		return map[string]any{"encryption": "TLS", "auth": "MICROSOFT_GRAPH", "graphTenantId": "dir", "graphClientId": "client",
			"graphClientSecret": "secret", "senderAddress": "noreply@hostile.example"}
	}
	for _, s := range []struct {
		key, valid string
		graph      bool
	}{
		{"host", "smtp.hostile.example", false}, {"username", "user", false}, {"password", "secret", false},
		{"graphTenantId", "dir", true}, {"graphClientId", "client", true}, {"graphClientSecret", "secret", true},
		{"senderAddress", "noreply@hostile.example", false}, {"senderName", "Hostile", false},
	} {
		variants := line(s.valid, 1000)
		if s.key == "senderName" {
			variants = append(line(s.valid, 200), variant{"encoded-word CR LF", "=?utf-8?q?Hostile=0D=0ABcc:_x@y.example?="})
		}
		in := func(v string) map[string]any {
			m := settings()
			if s.graph {
				m = graphSettings()
			}
			m[s.key] = v
			return m
		}
		for i, v := range variants {
			// Spread the variants over the four mutations that take settings.
			switch i % 4 {
			case 0:
				field("configureSystemServer", s.key, "admin", hConfigSystem, []variant{v}, func(v string) map[string]any { return map[string]any{"i": in(v)} })
			case 1:
				field("configureTenantServer", s.key, "admin", hConfigTenant, []variant{v}, func(v string) map[string]any {
					return map[string]any{"t": fx.tenantID, "i": in(v)}
				})
			case 2:
				field("addMailbox settings", s.key, "admin", hAddMailbox, []variant{v}, func(v string) map[string]any {
					return map[string]any{"t": fx.tenantID, "a": "auth@hostile.example", "d": "Auth", "set": in(v)}
				})
			case 3:
				field("updateMailbox settings", s.key, "admin", hUpdateMailbox, []variant{v}, func(v string) map[string]any {
					return map[string]any{"m": fx.mailboxID, "set": in(v)}
				})
			}
		}
	}

	field("configureSupport", "address", "admin", hConfigSupport, addressVariants("help@vendor.example")[:4], func(v string) map[string]any {
		return map[string]any{"a": v}
	})
	field("setTenantSupportAddress", "address", "admin", hTenantSupport, addressVariants("help@hostile.example")[:4], func(v string) map[string]any {
		return map[string]any{"t": fx.tenantID, "a": v}
	})
	field("sendTestMail", "to", "admin", hSendTestMail, addressVariants("probe@dest.example")[:4], func(v string) map[string]any {
		return map[string]any{"to": v}
	})

	// sendMessage: every field of SendMessageInput, as the user.
	msg := func(kv ...any) map[string]any {
		return map[string]any{"i": with(map[string]any{"from": sysAddr, "to": []string{"rcpt@dest.example"}, "subject": "Hello", "text": "Hello there."}, kv...)}
	}
	field("sendMessage", "from", "user", hSendMessage, addressVariants(sysAddr)[:4], func(v string) map[string]any { return msg("from", v) })
	field("sendMessage", "replyTo", "user", hSendMessage, []variant{{"NUL in the name", "Sys\x00 <" + sysAddr + ">"}, {"LF", sysAddr + "\n"}},
		func(v string) map[string]any { return msg("replyTo", v) })
	field("sendMessage", "to", "user", hSendMessage, addressVariants("rcpt@dest.example")[:4], func(v string) map[string]any {
		return msg("to", []string{"ok@dest.example", v})
	})
	field("sendMessage", "cc", "user", hSendMessage, addressVariants("cc@dest.example")[:2], func(v string) map[string]any {
		return msg("cc", []string{v})
	})
	field("sendMessage", "bcc", "user", hSendMessage, []variant{{"C1 in the display name", "B\u0085cc <bcc@dest.example>"}}, func(v string) map[string]any {
		return msg("bcc", []string{v})
	})
	subject := append(line("Hello", 998), variant{"encoded-word CR LF", "=?utf-8?b?SGFsbG8NCkJjYzogdmljdGltQGV4YW1wbGUuY29t?="},
		variant{"encoded-word NUL", "=?utf-8?q?Hallo=00?="}, variant{"undecodable encoded word", "=?x-hostile?q?=0D=0A?="})
	field("sendMessage", "subject", "user", hSendMessage, subject, func(v string) map[string]any { return msg("subject", v) })
	for _, body := range []string{"text", "html"} {
		field("sendMessage", body, "user", hSendMessage, []variant{
			{"NUL", "Hello\x00there"}, {"C1", "Hello\u0080there"}, {"ESC", "\x1b[31mred"}, {"form feed", "a\fb"},
			{"invalid UTF-8", "Hello " + badUTF8}, {"5 MiB + 1", strings.Repeat("a", 5<<20+1)},
		}, func(v string) map[string]any { return msg(body, v) })
	}
	att := func(filename, contentType string) map[string]any {
		return msg("attachments", []map[string]any{{"filename": filename, "contentType": contentType, "contentBase64": "aGVsbG8="}})
	}
	field("sendMessage", "attachments", "user", hSendMessage, []variant{
		{"NUL in filename", "a\x00.pdf"}, {"LF in filename", "a\n.pdf"}, {"C1 in filename", "a\u0085.pdf"},
		{"invalid UTF-8 in filename", "a" + badUTF8 + ".pdf"}, {"201-character filename", strings.Repeat("f", 201)},
		{"encoded-word filename", "=?utf-8?q?a=0D=0A.pdf?="},
	}, func(v string) map[string]any { return att(v, "application/pdf") })
	field("sendMessage", "attachments", "user", hSendMessage, []variant{
		{"NUL in contentType", "application/pdf\x00"}, {"LF in contentType", "application/pdf\r\nX: 1"},
		{"NUL in a quoted parameter", "application/pdf; name=\"a\x00b\""},
	}, func(v string) map[string]any { return att("a.pdf", v) })
	field("sendMessage", "idempotencyKey", "user", hSendMessage, line("key-1", 200), func(v string) map[string]any {
		return msg("idempotencyKey", v)
	})
	field("submitSupportRequest", "subject", "user", hSupportRequest, append(line("Help", 998), variant{"encoded-word CR LF", "=?utf-8?b?SGVscA0KWDogMQ==?="}),
		func(v string) map[string]any { return map[string]any{"s": v, "b": "Please help."} })
	field("submitSupportRequest", "body", "user", hSupportRequest, []variant{
		{"NUL", "Please\x00help"}, {"C1", "Please\u009bhelp"}, {"invalid UTF-8", "Please " + badUTF8}, {"5 MiB + 1", strings.Repeat("b", 5<<20+1)},
	}, func(v string) map[string]any { return map[string]any{"s": "Help", "b": v} })

	// Huge lists.
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	add(hostileCase{"sendMessage 20,000 recipients in to", "user", hSendMessage, msg("to", many(20000, "r%d@dest.example")), "to"})
	add(hostileCase{"sendMessage 101 recipients in bcc", "user", hSendMessage, msg("to", []string{}, "bcc", many(101, "b%d@dest.example")), "bcc"})
	add(hostileCase{"sendMessage 5,000 copies of one bad cc", "user", hSendMessage, msg("cc", many(5000, "bad\x00%d@dest.example")), "cc"})
	add(hostileCase{"sendMessage no recipients", "user", hSendMessage, msg("to", []string{}), "to"})
	empty := make([]map[string]any, 20000)
	for i := range empty {
		empty[i] = map[string]any{"filename": fmt.Sprintf("a%d.txt", i), "contentType": "text/plain", "contentBase64": ""}
	}
	add(hostileCase{"sendMessage 20,000 empty attachments", "user", hSendMessage, msg("attachments", empty), "attachments"})

	// Wrong GraphQL types: any typed error but INTERNAL (their
	// presentation is the HTTP layer's).
	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"createTenant name as a list", hCreateTenant, map[string]any{"n": []string{"a", "b"}}},
		{"createTenant name as an object", hCreateTenant, map[string]any{"n": map[string]any{"x": 1}}},
		{"createTenant name null", hCreateTenant, map[string]any{"n": nil}},
		{"createTenant name missing", hCreateTenant, nil},
		{"createTenant inline number", `mutation{ createTenant(name: 42){ id } }`, nil},
		{"setTenantPolicy quota as a string", hSetPolicy, map[string]any{"t": fx.tenantID, "q": "many"}},
		{"setTenantPolicy quota beyond Int", hSetPolicy, map[string]any{"t": fx.tenantID, "q": 1e20}},
		{"setTenantPolicy quota fractional", hSetPolicy, map[string]any{"t": fx.tenantID, "q": 1.5}},
		{"configureSystemServer port beyond Int", hConfigSystem, map[string]any{"i": with(settings(), "port", 99999999999)}},
		{"configureSystemServer unknown encryption", hConfigSystem, map[string]any{"i": with(settings(), "encryption", "ROT13")}},
		{"configureSystemServer unknown field", hConfigSystem, map[string]any{"i": with(settings(), "evil", "x")}},
		{"configureSystemServer missing senderAddress", hConfigSystem, map[string]any{"i": with(settings(), "senderAddress", nil)}},
		{"sendMessage to as a string", hSendMessage, msg("to", "rcpt@dest.example")},
		{"sendMessage to with null", hSendMessage, msg("to", []any{nil})},
		{"sendMessage attachments as strings", hSendMessage, msg("attachments", []string{"a.pdf"})},
		{"createUser unknown role", `mutation($t:ID!){ createUser(tenantId:$t, loginName:"x", displayName:"x", email:"x@example.com", role:OWNER){ id } }`, map[string]any{"t": fx.tenantID}},
		{"setUserBlocked blocked as a string", `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:"yes"){ id } }`, map[string]any{"u": fx.userID}},
		{"updateUser userId as a number", hUpdateUser, map[string]any{"u": 12345678901234567890.0, "d": "x"}},
	} {
		add(hostileCase{name: c.name, tok: "admin", query: c.query, vars: c.vars})
	}
	// Hostile ids: objects that cannot exist are NOT_FOUND (or INVALID_INPUT), never INTERNAL.
	for _, id := range []string{"\x00", "tenant\x00", badUTF8, strings.Repeat("9", 5000)} {
		add(hostileCase{name: fmt.Sprintf("createGroup tenantId %q", id), tok: "admin", query: hCreateGroup, vars: map[string]any{"t": id, "n": "G"}})
		add(hostileCase{name: fmt.Sprintf("updateUser userId %q", id), tok: "admin", query: hUpdateUser, vars: map[string]any{"u": id, "d": "x"}})
		add(hostileCase{name: fmt.Sprintf("removeMailbox id %q", id), tok: "admin", query: `mutation($m:ID!){ removeMailbox(id:$m) }`, vars: map[string]any{"m": id}})
		add(hostileCase{name: fmt.Sprintf("grantUser ids %q", id), tok: "admin", query: `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, vars: map[string]any{"m": fx.mailboxID, "u": id}})
	}
	// Reads take ids and texts too (R34): never INTERNAL.
	for _, c := range []struct{ name, query string }{
		{"tenant", `query($v:ID!){ tenant(id:$v){ id } }`},
		{"user", `query($v:ID!){ user(id:$v){ id } }`},
		{"tenants search", `query($v:String){ tenants(search:$v){ totalCount } }`},
		{"auditLog streamId", `query($v:String){ auditLog(streamId:$v){ totalCount } }`},
		{"messages after", `query($t:ID!,$v:String){ messages(tenantId:$t, after:$v){ totalCount } }`},
	} {
		for _, v := range []string{"\x00", "a\u0085", badUTF8, strings.Repeat("x", 1001)} {
			add(hostileCase{name: fmt.Sprintf("%s %q", c.name, v), tok: "admin", query: c.query, vars: map[string]any{"v": v, "t": fx.tenantID}})
		}
	}
	return cases
}

// TestR34_HostileInputSuite sends every hostile case over HTTP.
func TestR34_HostileInputSuite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		logs := &lockedBuffer{}
		in := servertest.StartWith(t, db, server.Options{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		e := &env{Instance: in}
		e.enableSystemServer(t)
		e.must(t, e.Admin, hConfigSupport, map[string]any{"a": "help@vendor.example"}, nil)
		fx := hostileFixture{tenantID: e.createTenant(t, "Hostile Tenant")}
		fx.userID = e.user(t, fx.tenantID, "Erika Muster", "erika@hostile.example", "EMPLOYEE")
		fx.userTok = e.token(t, fx.userID)
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, e.Admin, hCreateGroup, map[string]any{"t": fx.tenantID, "n": "Vertrieb"}, &g)
		fx.groupID = g.CreateGroup.ID
		fx.mailboxID = e.addMailbox(t, e.Admin, fx.tenantID, "info@hostile.example", "Info", true, true, nil)

		cases := hostileCases(fx)
		if len(cases) < 100 {
			t.Fatalf("got %d hostile cases, want at least 100", len(cases))
		}
		start := countEvents(t, db)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tok := e.Admin
				if c.tok == "user" {
					tok = fx.userTok
				}
				before := countEvents(t, db)
				body, rawUTF8 := hostileBody(t, c.query, c.vars)
				r := postHostile(t, e.URL, tok, body)
				if len(r.Errors) == 0 {
					t.Fatalf("got no error (%.300s), want one", raw(r))
				}
				switch code := r.Code(); {
				case code == "INTERNAL" || code == "":
					t.Fatalf("got code %q (%.300s), want a typed error; server log:\n%.2000s", code, raw(r), logs.String())
				case rawUTF8 && code != "INVALID_INPUT":
					// Refused as the body is read, before any field is known.
					t.Fatalf("got code %q (%.300s), want INVALID_INPUT", code, raw(r))
				case !rawUTF8 && c.field != "" && (code != "INVALID_INPUT" || r.Field() != c.field):
					t.Fatalf("got %s field %q (%.300s), want INVALID_INPUT field %q", code, r.Field(), raw(r), c.field)
				}
				if n := countEvents(t, db); n != before {
					t.Fatalf("the event log grew from %d to %d events, want nothing stored", before, n)
				}
			})
		}
		if n := countEvents(t, db); n != start {
			t.Fatalf("the event log grew from %d to %d events during the suite, want nothing stored", start, n)
		}
		// The read models still follow: a valid change is answered (R35's
		// halt, which a stored NUL caused, would make it time out).
		e.mustSend(t, fx.userTok, msgDraft("subject", "after the suite"))
		e.createTenant(t, "After the suite")
		if log := logs.String(); strings.Contains(strings.ToLower(log), "panic") {
			t.Fatalf("the server's log shows a panic:\n%.3000s", log)
		}
	})
}

// hostileBody is the JSON body of an operation, with raw invalid UTF-8
// bytes where a string holds badUTF8 (rawUTF8 reports whether it has any).
func hostileBody(t *testing.T, query string, vars map[string]any) (body []byte, rawUTF8 bool) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	rawUTF8 = bytes.Contains(body, []byte(badUTF8))
	return bytes.ReplaceAll(body, []byte(badUTF8), []byte("\xff\xfe\xc3")), rawUTF8
}

// postHostile posts a GraphQL request body as tok.
func postHostile(t *testing.T, url, tok string, body []byte) servertest.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out servertest.Response
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response %d is not GraphQL: %.300s", resp.StatusCode, b)
	}
	return out
}

// countEvents is the number of events in the log (the events table is a
// public interface, SPEC §3).
func countEvents(t *testing.T, db *database.DB) int64 {
	t.Helper()
	n, err := db.Read.NewSelect().Table("events").Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestR34_HostileTokens: a token whose id holds bytes no store takes
// (invalid UTF-8 is allowed in an HTTP header) is UNAUTHENTICATED like any
// malformed token, never INTERNAL (R19, R21).
func TestR34_HostileTokens(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, tok := range []string{"abs_\xff\xfe_secret", "abs_id\x85x_secret", "abs_" + strings.Repeat("9", 5000) + "_secret", "abs_\t_secret"} {
			r := postHostile(t, e.URL, tok, []byte(`{"query":"mutation{ createTenant(name:\"T\"){ id } }"}`))
			if got := r.Code(); got != "UNAUTHENTICATED" {
				t.Fatalf("token %q: got code %q (%.300s), want UNAUTHENTICATED", tok, got, raw(r))
			}
		}
	})
}

// TestR34_HostileSubscriptionArguments: a subscription's ids and cursors
// are checked like a query's (INVALID_INPUT naming the argument), never
// INTERNAL.
func TestR34_HostileSubscriptionArguments(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := e.mustDialWS(t, e.Admin)
		c.subscribeStatus(t, "s1", "msg\x00")
		if u := c.nextStatus(t, "s1"); !strings.Contains(u.Errors, "INVALID_INPUT") || !strings.Contains(u.Errors, `"field":"id"`) {
			t.Fatalf("messageStatus(id: NUL): got %+v, want INVALID_INPUT naming id", u)
		}
		c.subscribeStatus(t, "s2", strings.Repeat("9", 1001))
		if u := c.nextStatus(t, "s2"); !strings.Contains(u.Errors, "INVALID_INPUT") {
			t.Fatalf("messageStatus(id: 1,001 characters): got %+v, want INVALID_INPUT", u)
		}
	})
}
