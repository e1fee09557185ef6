// Package e2e_test drives a real Absender server over HTTP and WebSocket and
// checks the rules of SPEC.md (R1–R21, §3, §4) through GraphQL only.
package e2e_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// env is one running server.
type env struct {
	*servertest.Instance
	seq atomic.Int64
}

// each runs fn on a fresh server per database (SQLite, PostgreSQL when set).
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fn(t, &env{Instance: servertest.Start(t, db)})
	})
}

// uniq makes a name unique on this server (login names are unique system-wide).
func (e *env) uniq(s string) string { return fmt.Sprintf("%s%d", s, e.seq.Add(1)) }

// do runs an operation and returns the response.
func (e *env) do(t *testing.T, tok, q string, vars map[string]any) servertest.Response {
	t.Helper()
	return e.Do(t, tok, q, vars)
}

// must runs an operation that must succeed and decodes data into v.
func (e *env) must(t *testing.T, tok, q string, vars map[string]any, v any) {
	t.Helper()
	e.MustDo(t, tok, q, vars, v)
}

// raw is the JSON text of a whole response (data and errors).
func raw(r servertest.Response) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// wantCode checks extensions.code of the first error.
func wantCode(t *testing.T, r servertest.Response, code string) {
	t.Helper()
	if got := r.Code(); got != code {
		t.Fatalf("got code %q (%s), want %q", got, raw(r), code)
	}
}

// wantInvalid checks INVALID_INPUT naming field.
func wantInvalid(t *testing.T, r servertest.Response, field string) {
	t.Helper()
	if got := r.Code(); got != "INVALID_INPUT" {
		t.Fatalf("got code %q (%s), want INVALID_INPUT", got, raw(r))
	}
	if got := r.Field(); got != field {
		t.Fatalf("got field %q (%s), want %q", got, raw(r), field)
	}
}

// wantNoSecret fails when s contains secret.
func wantNoSecret(t *testing.T, what, s, secret string) {
	t.Helper()
	if strings.Contains(s, secret) {
		t.Fatalf("%s contains the secret %q: %s", what, secret, s)
	}
}

// ---- fixtures ----

// sysServer is the system server used by most tests.
func sysServer() map[string]any {
	return map[string]any{"host": "smtp.absender.example", "encryption": "STARTTLS", "auth": "NONE",
		"senderAddress": "noreply@absender.example", "senderName": "Absender System"}
}

const (
	sysAddr = "noreply@absender.example"
	sysName = "Absender System"
)

// enableSystemServer configures the system server and switches it on.
func (e *env) enableSystemServer(t *testing.T) {
	t.Helper()
	e.must(t, e.Admin, `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured } }`,
		map[string]any{"i": sysServer()}, nil)
	e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
}

func (e *env) createTenant(t *testing.T, name string) string {
	t.Helper()
	var v struct{ CreateTenant struct{ ID string } }
	e.must(t, e.Admin, `mutation($n:String!){ createTenant(name:$n){ id } }`, map[string]any{"n": name}, &v)
	return v.CreateTenant.ID
}

// setPolicy sets tenant policy fields as the system administrator.
func (e *env) setPolicy(t *testing.T, tenantID string, p map[string]any) {
	t.Helper()
	vars := map[string]any{"t": tenantID}
	for k, v := range p {
		vars[k] = v
	}
	e.must(t, e.Admin, `mutation($t:ID!,$allowSystemServer:Boolean,$allowOwnServer:Boolean,$mailboxQuota:Int,$userAddressAsSender:Boolean,$duplicatePolicy:DuplicatePolicy){
		setTenantPolicy(tenantId:$t, allowSystemServer:$allowSystemServer, allowOwnServer:$allowOwnServer, mailboxQuota:$mailboxQuota,
			userAddressAsSender:$userAddressAsSender, duplicatePolicy:$duplicatePolicy){ id } }`, vars, nil)
}

const createUserQ = `mutation($t:ID!,$l:String!,$d:String!,$e:String!,$r:Role!){ createUser(tenantId:$t, loginName:$l, displayName:$d, email:$e, role:$r){ id } }`

func userVars(tenantID, login, display, email, role string) map[string]any {
	return map[string]any{"t": tenantID, "l": login, "d": display, "e": email, "r": role}
}

// createUser creates a user as tok and returns its id.
func (e *env) createUser(t *testing.T, tok, tenantID, login, display, email, role string) string {
	t.Helper()
	var v struct{ CreateUser struct{ ID string } }
	e.must(t, tok, createUserQ, userVars(tenantID, login, display, email, role), &v)
	return v.CreateUser.ID
}

// user creates a user (login name made unique) as the system administrator.
func (e *env) user(t *testing.T, tenantID, display, email, role string) string {
	t.Helper()
	return e.createUser(t, e.Admin, tenantID, e.uniq(strings.ToLower(strings.Fields(display)[0])), display, email, role)
}

// token issues an API token for userID as the system administrator.
func (e *env) token(t *testing.T, userID string) string {
	t.Helper()
	var v struct {
		IssueAPIToken string `json:"issueApiToken"`
	}
	e.must(t, e.Admin, `mutation($u:ID!,$n:String!){ issueApiToken(userId:$u, name:$n) }`, map[string]any{"u": userID, "n": "e2e"}, &v)
	return v.IssueAPIToken
}

const addMailboxQ = `mutation($t:ID!,$a:String!,$d:String!,$s:Boolean!,$r:Boolean!,$g:Boolean,$set:ServerSettingsInput){
	addMailbox(tenantId:$t, address:$a, displayName:$d, sender:$s, replyTo:$r, global:$g, settings:$set){ id } }`

func mailboxVars(tenantID, addr, name string, sender, replyTo bool) map[string]any {
	return map[string]any{"t": tenantID, "a": addr, "d": name, "s": sender, "r": replyTo}
}

// addMailbox adds a mailbox as tok; extra may set "g" (global) and "set" (settings).
func (e *env) addMailbox(t *testing.T, tok, tenantID, addr, name string, sender, replyTo bool, extra map[string]any) string {
	t.Helper()
	vars := mailboxVars(tenantID, addr, name, sender, replyTo)
	for k, v := range extra {
		vars[k] = v
	}
	var v struct{ AddMailbox struct{ ID string } }
	e.must(t, tok, addMailboxQ, vars, &v)
	return v.AddMailbox.ID
}

// ---- address options ----

type option struct {
	Address     string  `json:"address"`
	DisplayName string  `json:"displayName"`
	Source      string  `json:"source"`
	MailboxID   *string `json:"mailboxId"`
	Transport   string  `json:"transport"`
}

func (o option) String() string {
	mb := "-"
	if o.MailboxID != nil {
		mb = *o.MailboxID
	}
	return fmt.Sprintf("{%s %q %s mailbox=%s %s}", o.Address, o.DisplayName, o.Source, mb, o.Transport)
}

// opt builds an expected option; mailboxID "" means none.
func opt(addr, name, source, mailboxID, transport string) option {
	o := option{Address: addr, DisplayName: name, Source: source, Transport: transport}
	if mailboxID != "" {
		o.MailboxID = &mailboxID
	}
	return o
}

func sysOpt(transport string) option { return opt(sysAddr, sysName, "SYSTEM_MAILBOX", "", transport) }

const optFields = `address displayName source mailboxId transport`

// options returns the sender and reply-to options of userID as the system administrator.
func (e *env) options(t *testing.T, userID string) (sender, replyTo []option) {
	t.Helper()
	var v struct {
		SenderOptions  []option
		ReplyToOptions []option
	}
	e.must(t, e.Admin, `query($u:ID!){ senderOptions(userId:$u){ `+optFields+` } replyToOptions(userId:$u){ `+optFields+` } }`,
		map[string]any{"u": userID}, &v)
	return v.SenderOptions, v.ReplyToOptions
}

func (e *env) senderOptions(t *testing.T, userID string) []option {
	t.Helper()
	s, _ := e.options(t, userID)
	return s
}

func wantOptions(t *testing.T, what string, got, want []option) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %v\nwant %v", what, got, want)
	}
}

// addresses lists the option addresses.
func addresses(opts []option) []string {
	out := []string{}
	for _, o := range opts {
		out = append(out, o.Address)
	}
	return out
}

func hasAddress(opts []option, addr string) bool {
	for _, o := range opts {
		if strings.EqualFold(o.Address, addr) {
			return true
		}
	}
	return false
}

// ---- reads ----

type tenantView struct {
	ID                 string
	Name               string
	EffectiveTransport string
	Policy             struct {
		AllowSystemServer, AllowOwnServer bool
		MailboxQuota                      int
		UserAddressAsSender               bool
		DuplicatePolicy                   string
	}
	Server    *settingsView
	Users     conn[struct{ ID, LoginName string }]
	Groups    conn[struct{ ID, Name string }]
	Mailboxes conn[struct {
		ID, Address string
	}]
}

type settingsView struct {
	Host                 *string
	Port                 *int
	Encryption, Auth     string
	Username             *string
	HasPassword          bool
	GraphTenantID        *string `json:"graphTenantId"`
	GraphClientID        *string `json:"graphClientId"`
	HasGraphClientSecret bool
	SenderAddress        string
	SenderName           *string
	SmtpUtf8             bool
}

const settingsFields = `host port encryption auth username hasPassword graphTenantId graphClientId hasGraphClientSecret senderAddress senderName smtpUtf8`

const tenantFields = `id name effectiveTransport policy{ allowSystemServer allowOwnServer mailboxQuota userAddressAsSender duplicatePolicy }
	server{ ` + settingsFields + ` } users(first: 500){ edges{ node{ id loginName } } }
	groups(first: 500){ edges{ node{ id name } } } mailboxes(first: 500){ edges{ node{ id address } } }`

func (e *env) tenant(t *testing.T, tok, id string) tenantView {
	t.Helper()
	var v struct{ Tenant *tenantView }
	e.must(t, tok, `query($id:ID!){ tenant(id:$id){ `+tenantFields+` } }`, map[string]any{"id": id}, &v)
	if v.Tenant == nil {
		t.Fatalf("tenant %s: got null", id)
	}
	return *v.Tenant
}

type mailboxView struct {
	ID, TenantID, Address, DisplayName                 string
	Sender, ReplyTo, Global, Authenticated, Restricted bool
	Settings                                           *settingsView
	GrantedUsers                                       []struct{ ID string }
	GrantedGroups                                      []struct{ ID string }
}

const mailboxFields = `id tenantId address displayName sender replyTo global authenticated restricted
	settings{ ` + settingsFields + ` } grantedUsers{ id } grantedGroups{ id }`

func (e *env) mailbox(t *testing.T, tok, id string) mailboxView {
	t.Helper()
	var v struct{ Mailbox *mailboxView }
	e.must(t, tok, `query($id:ID!){ mailbox(id:$id){ `+mailboxFields+` } }`, map[string]any{"id": id}, &v)
	if v.Mailbox == nil {
		t.Fatalf("mailbox %s: got null", id)
	}
	return *v.Mailbox
}

func ids[S ~[]struct{ ID string }](xs S) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, x.ID)
	}
	return out
}

// conn decodes a connection's page ({ edges { node { … } } }) as the list
// of its nodes.
type conn[T any] []T

func (c *conn[T]) UnmarshalJSON(b []byte) error {
	var v struct{ Edges []struct{ Node T } }
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = make(conn[T], len(v.Edges))
	for i, e := range v.Edges {
		(*c)[i] = e.Node
	}
	return nil
}

// caughtUp waits until the read models reflect every event committed so
// far (after commands run through the app layer, not over the API).
func (e *env) caughtUp(t *testing.T) {
	t.Helper()
	head, err := e.Server.Store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Server.Runner.WaitFor(t.Context(), head); err != nil {
		t.Fatal(err)
	}
}
