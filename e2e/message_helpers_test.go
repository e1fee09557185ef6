package e2e_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/absender/absender/server/servertest"
	"github.com/absender/absender/transport/smtptest"
)

// ---- messages over GraphQL ----

const messageFields = messageListFields + ` attemptLog{ number at transport outcome smtpCode detail }`

// messageListFields are the fields a page of messages reads: a page of 500
// with the attempt log of each would pass the complexity limit (R34).
const messageListFields = `id kind tenantId status from replyTo to cc subject transport attempts nextAttemptAt lastError messageId rejectedRecipients
	resolution{ rule transport mailboxId skipped{ candidate reason } grantedBy grant{ userId groupId at position } } createdAt updatedAt`

type attemptView struct {
	Number    int
	At        string
	Transport string
	Outcome   string
	SMTPCode  *int `json:"smtpCode"`
	Detail    *string
}

type grantView struct {
	UserID   *string `json:"userId"`
	GroupID  *string `json:"groupId"`
	At       string
	Position string
}

type resolutionView struct {
	Rule      string
	Transport string
	MailboxID *string `json:"mailboxId"`
	Skipped   []struct{ Candidate, Reason string }
	GrantedBy *string
	Grant     *grantView
}

type messageView struct {
	ID, Kind, Status, From string
	TenantID               *string `json:"tenantId"`
	NextAttemptAt          *string
	AttemptLog             []attemptView
	ReplyTo                *string
	To, Cc                 []string
	Subject                string
	Transport              *string
	Attempts               int
	LastError              *string
	MessageID              *string `json:"messageId"`
	RejectedRecipients     []string
	Resolution             *resolutionView
	CreatedAt              string
	UpdatedAt              string
}

const (
	sendMessageQ   = `mutation($i:SendMessageInput!){ sendMessage(input:$i){ ` + messageFields + ` } }`
	messageQ       = `query($id:ID!){ message(id:$id){ ` + messageFields + ` } }`
	messagesQ      = `query($t:ID,$s:MessageStatus,$k:MessageKind,$f:Int,$a:String){ messages(tenantId:$t, status:$s, kind:$k, first:$f, after:$a){ edges{ cursor node{ ` + messageListFields + ` } } pageInfo{ hasNextPage endCursor } totalCount } }`
	cancelQ        = `mutation($id:ID!){ cancelMessage(id:$id){ ` + messageFields + ` } }`
	retryNowQ      = `mutation($id:ID!){ retryMessageNow(id:$id){ ` + messageFields + ` } }`
	sendTestMailQ  = `mutation($t:ID,$m:ID,$to:String!){ sendTestMail(tenantId:$t, mailboxId:$m, to:$to){ ` + messageFields + ` } }`
	purgeQ         = `mutation($id:ID!){ purgeMessageContent(id:$id){ ` + messageFields + ` } }`
	supportQ       = `mutation($s:String!,$b:String!){ submitSupportRequest(subject:$s, body:$b){ ` + messageFields + ` } }`
	messageStatusQ = `subscription($id:ID!){ messageStatus(id:$id){ ` + messageFields + ` } }`
)

// msgDraft is a message the system mailbox may send, changed by kv (key,
// value pairs; a nil value removes the key).
func msgDraft(kv ...any) map[string]any {
	return with(map[string]any{"from": sysAddr, "to": []string{"rcpt@dest.example"}, "subject": "Hello", "text": "Hello there."}, kv...)
}

// send runs sendMessage as tok.
func (e *env) send(t *testing.T, tok string, in map[string]any) servertest.Response {
	t.Helper()
	return e.do(t, tok, sendMessageQ, map[string]any{"i": in})
}

// mustSend runs sendMessage as tok and fails on any error.
func (e *env) mustSend(t *testing.T, tok string, in map[string]any) messageView {
	t.Helper()
	var v struct{ SendMessage messageView }
	e.must(t, tok, sendMessageQ, map[string]any{"i": in}, &v)
	return v.SendMessage
}

// testMail runs sendTestMail as tok; tenantID and mailboxID may be "".
func (e *env) testMail(t *testing.T, tok, tenantID, mailboxID, to string) servertest.Response {
	t.Helper()
	vars := map[string]any{"to": to}
	if tenantID != "" {
		vars["t"] = tenantID
	}
	if mailboxID != "" {
		vars["m"] = mailboxID
	}
	return e.do(t, tok, sendTestMailQ, vars)
}

// message reads a message as tok (the response, and the message or nil).
func (e *env) message(t *testing.T, tok, id string) (servertest.Response, *messageView) {
	t.Helper()
	r := e.do(t, tok, messageQ, map[string]any{"id": id})
	var v struct{ Message *messageView }
	if len(r.Data) > 0 && string(r.Data) != "null" {
		r.Decode(t, &v)
	}
	return r, v.Message
}

// mustMessage reads a message as tok and fails unless it is there.
func (e *env) mustMessage(t *testing.T, tok, id string) messageView {
	t.Helper()
	r, m := e.message(t, tok, id)
	if len(r.Errors) > 0 || m == nil {
		t.Fatalf("message(%s): got %s, want the message", id, raw(r))
	}
	return *m
}

type messagePage struct {
	Messages    []messageView
	Cursors     []string
	HasNextPage bool
	EndCursor   *string
	TotalCount  int
}

// messages reads a page of a tenant's messages as tok (tenantID "": no
// tenantId); vars may set "s", "k", "f" and "a".
func (e *env) messages(t *testing.T, tok, tenantID string, vars map[string]any) (servertest.Response, messagePage) {
	t.Helper()
	if tenantID != "" {
		vars = with(vars, "t", tenantID)
	}
	r := e.do(t, tok, messagesQ, vars)
	var v struct {
		Messages *struct {
			Edges []struct {
				Cursor string
				Node   messageView
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
			TotalCount int
		}
	}
	var p messagePage
	if len(r.Errors) > 0 {
		return r, p
	}
	r.Decode(t, &v)
	p.HasNextPage, p.EndCursor, p.TotalCount = v.Messages.PageInfo.HasNextPage, v.Messages.PageInfo.EndCursor, v.Messages.TotalCount
	for _, edge := range v.Messages.Edges {
		p.Messages = append(p.Messages, edge.Node)
		p.Cursors = append(p.Cursors, edge.Cursor)
	}
	return r, p
}

// messageIDs lists the ids of a tenant's messages (up to 500) as tok.
func (e *env) messageIDs(t *testing.T, tok, tenantID string) []string {
	t.Helper()
	r, p := e.messages(t, tok, tenantID, map[string]any{"f": 500})
	if len(r.Errors) > 0 {
		t.Fatalf("messages(%s): %s", tenantID, raw(r))
	}
	out := []string{}
	for _, m := range p.Messages {
		out = append(out, m.ID)
	}
	return out
}

func msgFinal(status string) bool {
	return status == "SENT" || status == "FAILED" || status == "REJECTED" || status == "CANCELLED"
}

// waitFinal polls the message as tok until the saga is done with it and
// returns it; it fails the test unless the status is want.
func (e *env) waitFinal(t *testing.T, tok, id, want string) messageView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := e.mustMessage(t, tok, id)
		if msgFinal(m.Status) {
			if m.Status != want {
				t.Fatalf("message %s: got %s (lastError %v), want %s", id, m.Status, showNil(m.LastError), want)
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s still %s after 30s (attempts %d, lastError %v), want %s", id, m.Status, m.Attempts, showNil(m.LastError), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func showNil(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// ---- SMTP ----

// smtpSettings points server settings at a test SMTP server (plain text,
// no authentication).
func smtpSettings(srv *smtptest.Server, sender, name string) map[string]any {
	s := map[string]any{"host": srv.Host, "port": srv.Port, "encryption": "NONE", "auth": "NONE", "senderAddress": sender}
	if name != "" {
		s["senderName"] = name
	}
	return s
}

// smtpSystemServer starts an SMTP server and configures the system server
// to send through it; enabled switches it on (R1).
func (e *env) smtpSystemServer(t *testing.T, cfg smtptest.Config, enabled bool) *smtptest.Server {
	t.Helper()
	srv := smtptest.Start(t, cfg)
	e.must(t, e.Admin, configureSystemQ, map[string]any{"i": smtpSettings(srv, sysAddr, sysName)}, nil)
	e.must(t, e.Admin, `mutation($on:Boolean!){ setSystemServerEnabled(enabled:$on){ enabled } }`, map[string]any{"on": enabled}, nil)
	return srv
}

// received is one delivery with its parsed header.
type received struct {
	smtptest.Delivery
	Header mail.Header
	Head   string // the raw header block
	Body   string
}

// deliveriesWith returns what srv received with the given Subject header.
func deliveriesWith(t *testing.T, srv *smtptest.Server, subject string) []received {
	t.Helper()
	var out []received
	for _, d := range srv.Deliveries() {
		msg, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatalf("delivery from %s is no RFC 5322 message: %v\n%s", d.From, err, d.Data)
		}
		if msg.Header.Get("Subject") != subject {
			continue
		}
		head, body, _ := strings.Cut(strings.ReplaceAll(string(d.Data), "\r\n", "\n"), "\n\n")
		out = append(out, received{Delivery: d, Header: msg.Header, Head: head, Body: body})
	}
	return out
}

// oneDelivery returns the one delivery with subject.
func oneDelivery(t *testing.T, srv *smtptest.Server, subject string) received {
	t.Helper()
	ds := deliveriesWith(t, srv, subject)
	if len(ds) != 1 {
		t.Fatalf("deliveries with subject %q: got %d, want 1", subject, len(ds))
	}
	return ds[0]
}

// headerAddresses parses an address-list header.
func headerAddresses(t *testing.T, h mail.Header, name string) []string {
	t.Helper()
	list, err := h.AddressList(name)
	if err != nil {
		t.Fatalf("header %s %q: %v", name, h.Get(name), err)
	}
	var out []string
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

func wantSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// ---- attachments ----

// zipOf is a ZIP archive holding one file.
func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func attachment(name, contentType string, data []byte) map[string]any {
	return map[string]any{"filename": name, "contentType": contentType, "contentBase64": base64.StdEncoding.EncodeToString(data)}
}

// ---- the messageStatus subscription ----

// subscribeStatus starts messageStatus(id) as subscription sub.
func (c *wsClient) subscribeStatus(t *testing.T, sub, id string) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"query": messageStatusQ, "variables": map[string]any{"id": id}})
	if err := wsjson.Write(t.Context(), c.conn, wsMessage{ID: sub, Type: "subscribe", Payload: p}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
}

// statusUpdate is one message of a messageStatus subscription: a state, or
// done (complete), or errors.
type statusUpdate struct {
	Message messageView
	Done    bool
	Errors  string
}

// nextStatus reads the next message of subscription sub.
func (c *wsClient) nextStatus(t *testing.T, sub string) statusUpdate {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
	defer cancel()
	for {
		m, err := c.read(ctx)
		if err != nil {
			t.Fatalf("messageStatus: waiting for an update: %v", err)
		}
		if m.ID != sub {
			continue
		}
		switch m.Type {
		case "complete":
			return statusUpdate{Done: true}
		case "error":
			return statusUpdate{Errors: string(m.Payload)}
		case "next":
			var p struct {
				Data   *struct{ MessageStatus *messageView }
				Errors json.RawMessage
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatalf("payload %s: %v", m.Payload, err)
			}
			if len(p.Errors) > 0 && string(p.Errors) != "null" {
				return statusUpdate{Errors: string(p.Errors)}
			}
			if p.Data == nil || p.Data.MessageStatus == nil {
				t.Fatalf("messageStatus: got %s, want a message", m.Payload)
			}
			return statusUpdate{Message: *p.Data.MessageStatus}
		default:
			t.Fatalf("messageStatus: got %s %s", m.Type, m.Payload)
		}
	}
}
