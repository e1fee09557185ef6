package transport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/transport"
)

const graphSecret = "graph-client-s3cret"

// graphServer is a local stand-in for the Microsoft identity platform
// and Graph, speaking real HTTP.
type graphServer struct {
	*httptest.Server
	t *testing.T

	mu            sync.Mutex
	tokenRequests int
	tokenStatus   int // 0: issue tokens
	sendStatus    []int
	sendMails     []map[string]any
	drafts        []map[string]any
	attachments   []map[string]any
	uploads       map[string]*bytes.Buffer // by attachment name
	contentRanges []string
	sentDrafts    int
}

func startGraphServer(t *testing.T) *graphServer {
	g := &graphServer{t: t, uploads: map[string]*bytes.Buffer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tenant-1/oauth2/v2.0/token", g.token)
	mux.HandleFunc("POST /v1.0/users/{user}/sendMail", g.authorised(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.sendStatus) > 0 {
			st := g.sendStatus[0]
			g.sendStatus = g.sendStatus[1:]
			w.WriteHeader(st)
			fmt.Fprintf(w, `{"error":{"code":"Code%d","message":"status %d"}}`, st, st)
			return
		}
		g.sendMails = append(g.sendMails, decodeJSON(t, r))
		w.WriteHeader(http.StatusAccepted)
	}))
	mux.HandleFunc("POST /v1.0/users/{user}/messages", g.authorised(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.drafts = append(g.drafts, decodeJSON(t, r))
		g.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"draft-1"}`)
	}))
	mux.HandleFunc("POST /v1.0/users/{user}/messages/draft-1/attachments", g.authorised(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.attachments = append(g.attachments, decodeJSON(t, r))
		g.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"att-1"}`)
	}))
	mux.HandleFunc("POST /v1.0/users/{user}/messages/draft-1/attachments/createUploadSession", g.authorised(func(w http.ResponseWriter, r *http.Request) {
		item := decodeJSON(t, r)["AttachmentItem"].(map[string]any)
		name := item["name"].(string)
		g.mu.Lock()
		g.uploads[name] = &bytes.Buffer{}
		g.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"uploadUrl":%q,"nextExpectedRanges":["0-"]}`, g.URL+"/upload/"+name+"?size="+fmt.Sprint(item["size"]))
	}))
	mux.HandleFunc("PUT /upload/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("upload PUT: got an Authorization header, want none (the URL is pre-authorised)")
		}
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		buf := g.uploads[r.PathValue("name")]
		g.contentRanges = append(g.contentRanges, r.Header.Get("Content-Range"))
		buf.Write(b)
		if fmt.Sprint(buf.Len()) == r.URL.Query().Get("size") {
			w.WriteHeader(http.StatusCreated)
			return
		}
		fmt.Fprintf(w, `{"nextExpectedRanges":["%d-"]}`, buf.Len())
	})
	mux.HandleFunc("POST /v1.0/users/{user}/messages/draft-1/send", g.authorised(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.sentDrafts++
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

func (g *graphServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		g.t.Errorf("token request: %v", err)
	}
	for k, want := range map[string]string{
		"grant_type": "client_credentials", "client_id": "client-1", "client_secret": graphSecret,
		"scope": "https://graph.microsoft.com/.default",
	} {
		if got := r.PostForm.Get(k); got != want {
			g.t.Errorf("token request %s: got %q, want %q", k, got, want)
		}
	}
	g.mu.Lock()
	g.tokenRequests++
	status := g.tokenStatus
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		// A server that echoes the secret: the transport must still not leak it.
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret %s provided."}`, graphSecret)
		return
	}
	fmt.Fprint(w, `{"access_token":"token-1","token_type":"Bearer","expires_in":3600}`)
}

func (g *graphServer) authorised(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer token-1" {
			g.t.Errorf("%s %s Authorization: got %q, want Bearer token-1", r.Method, r.URL.Path, got)
		}
		if got := r.PathValue("user"); got != "juergen@absender.test" {
			g.t.Errorf("%s user: got %q, want the From address", r.URL.Path, got)
		}
		h(w, r)
	}
}

func decodeJSON(t *testing.T, r *http.Request) map[string]any {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("decode %s body: %v", r.URL.Path, err)
	}
	return m
}

func graphSettings() domain.ServerSettings {
	return domain.ServerSettings{
		Encryption: domain.EncryptionTLS, Auth: domain.AuthMicrosoftGraph,
		GraphTenantID: "tenant-1", GraphClientID: "client-1", SenderAddress: "juergen@absender.test",
	}
}

func graphTransport(g *graphServer, allowPrivate bool) *transport.Transport {
	return transport.New(transport.Options{
		AllowPrivateHosts: allowPrivate, SendTimeout: 10 * time.Second,
		GraphBaseURL: g.URL, GraphTokenURL: g.URL + "/{tenant}/oauth2/v2.0/token",
		GraphLargeAttachment: 64 << 10, GraphUploadChunk: 320 << 10,
	})
}

// TestGraphSendMail checks the client-credentials token request, the
// sendMail body (recipients incl. Bcc, Reply-To, HTML body, base64
// attachments) and that the token is reused by a second send.
func TestGraphSendMail(t *testing.T) {
	g := startGraphServer(t)
	tr := graphTransport(g, true)
	for i := range 2 {
		res, err := tr.Send(t.Context(), graphSettings(), transport.Credentials{GraphClientSecret: graphSecret}, fullMessage())
		if err != nil {
			t.Fatalf("send %d: got %v, want nil", i+1, err)
		}
		if res.Code != http.StatusAccepted || !strings.HasSuffix(res.MessageID, "@absender.test>") {
			t.Errorf("send %d result: got %+v, want 202 with a Message-ID", i+1, res)
		}
	}
	if g.tokenRequests != 1 {
		t.Errorf("token requests: got %d, want 1 (cached)", g.tokenRequests)
	}
	if len(g.sendMails) != 2 {
		t.Fatalf("sendMail calls: got %d, want 2", len(g.sendMails))
	}
	body := g.sendMails[0]
	if body["saveToSentItems"] != true {
		t.Errorf("saveToSentItems: got %v, want true", body["saveToSentItems"])
	}
	msg := body["message"].(map[string]any)
	addrs := func(field string) []string {
		var out []string
		list, _ := msg[field].([]any)
		for _, r := range list {
			out = append(out, r.(map[string]any)["emailAddress"].(map[string]any)["address"].(string))
		}
		return out
	}
	for field, want := range map[string]string{
		"toRecipients":  "ann@example.test bob@xn--bcher-kva.test",
		"ccRecipients":  "carol@example.test",
		"bccRecipients": "dave@example.test",
		"replyTo":       "support@absender.test",
	} {
		if got := strings.Join(addrs(field), " "); got != want {
			t.Errorf("%s: got %q, want %q", field, got, want)
		}
	}
	if msg["subject"] != "Grüße aus Köln – 日本語" {
		t.Errorf("subject: got %v, want the UTF-8 subject", msg["subject"])
	}
	if b := msg["body"].(map[string]any); b["contentType"] != "HTML" || b["content"] != "<p>Hallo Welt</p>" {
		t.Errorf("body: got %v, want the HTML body", b)
	}
	atts, _ := msg["attachments"].([]any)
	if len(atts) != 2 {
		t.Fatalf("attachments: got %d, want 2", len(atts))
	}
	a := atts[1].(map[string]any)
	if a["@odata.type"] != "#microsoft.graph.fileAttachment" || a["name"] != "notes.txt" || a["contentType"] != "text/plain" ||
		a["contentBytes"] != "c29tZSBub3Rlcwo=" {
		t.Errorf("attachment: got %v, want notes.txt as base64 fileAttachment", a)
	}
}

// TestGraphLargeAttachment checks the draft + upload session path used
// above the size threshold: chunks with Content-Range, the small
// attachment added directly, then send.
func TestGraphLargeAttachment(t *testing.T) {
	g := startGraphServer(t)
	large := bytes.Repeat([]byte("0123456789abcdef"), 700<<10/16) // 700 KiB: three chunks of at most 320 KiB
	m := fullMessage()
	m.Attachments = []transport.Attachment{
		{Filename: "big.bin", ContentType: "application/octet-stream", Data: large},
		{Filename: "notes.txt", ContentType: "text/plain", Data: []byte("some notes\n")},
	}
	_, err := graphTransport(g, true).Send(t.Context(), graphSettings(), transport.Credentials{GraphClientSecret: graphSecret}, m)
	if err != nil {
		t.Fatalf("Send: got %v, want nil", err)
	}
	if len(g.sendMails) != 0 || len(g.drafts) != 1 || g.sentDrafts != 1 {
		t.Errorf("calls: got %d sendMail, %d drafts, %d sends, want 0, 1, 1", len(g.sendMails), len(g.drafts), g.sentDrafts)
	}
	if _, ok := g.drafts[0]["attachments"]; ok {
		t.Errorf("draft: got inline attachments, want them added separately")
	}
	if got := g.uploads["big.bin"]; got == nil || !bytes.Equal(got.Bytes(), large) {
		t.Errorf("uploaded big.bin: got %d bytes, want the %d sent", got.Len(), len(large))
	}
	wantRanges := []string{"bytes 0-327679/716800", "bytes 327680-655359/716800", "bytes 655360-716799/716800"}
	if strings.Join(g.contentRanges, ",") != strings.Join(wantRanges, ",") {
		t.Errorf("Content-Range: got %v, want %v", g.contentRanges, wantRanges)
	}
	if len(g.attachments) != 1 || g.attachments[0]["name"] != "notes.txt" {
		t.Errorf("small attachments: got %v, want notes.txt", g.attachments)
	}
}

// TestGraphFailures checks R23 for Graph (429 and 5xx temporary, 4xx and
// a refused client secret permanent, the secret never in the error) and
// R24 (a Graph URL on loopback is refused unless allowed).
func TestGraphFailures(t *testing.T) {
	creds := transport.Credentials{GraphClientSecret: graphSecret}
	for _, tc := range []struct {
		status    int
		temporary bool
	}{{429, true}, {503, true}, {400, false}, {403, false}} {
		t.Run(fmt.Sprintf("sendMail %d", tc.status), func(t *testing.T) {
			g := startGraphServer(t)
			g.sendStatus = []int{tc.status}
			_, err := graphTransport(g, true).Send(t.Context(), graphSettings(), creds, simpleGraphMessage())
			var te *transport.Error
			if !errors.As(err, &te) || te.Temporary != tc.temporary || te.Code != tc.status {
				t.Fatalf("Send: got %v, want *Error code %d temporary=%v", err, tc.status, tc.temporary)
			}
		})
	}
	t.Run("invalid client secret", func(t *testing.T) {
		g := startGraphServer(t)
		g.tokenStatus = http.StatusUnauthorized
		_, err := graphTransport(g, true).Send(t.Context(), graphSettings(), creds, simpleGraphMessage())
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary || te.Code != http.StatusUnauthorized {
			t.Fatalf("Send: got %v, want permanent *Error with code 401", err)
		}
		if strings.Contains(err.Error(), graphSecret) || strings.Contains(fmt.Sprintf("%+v", err), graphSecret) {
			t.Errorf("error %q contains the client secret", err.Error())
		}
	})
	t.Run("R24 loopback refused", func(t *testing.T) {
		g := startGraphServer(t)
		_, err := graphTransport(g, false).Send(t.Context(), graphSettings(), creds, simpleGraphMessage())
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary || !errors.Is(err, transport.ErrHostRefused) {
			t.Fatalf("Send: got %v, want permanent *Error wrapping ErrHostRefused", err)
		}
		if g.tokenRequests != 0 {
			t.Errorf("token requests: got %d, want 0", g.tokenRequests)
		}
	})
}

func simpleGraphMessage() transport.Message {
	m := simpleMessage()
	m.From = transport.Mailbox{Address: "juergen@absender.test"}
	return m
}
