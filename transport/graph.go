package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/absender/absender/domain"
)

const graphScope = "https://graph.microsoft.com/.default"

// graphClient sends through Microsoft Graph (R4 MICROSOFT_GRAPH). Access
// tokens are cached per tenant, client and secret until they expire; the
// secret itself is not kept.
type graphClient struct {
	opts Options
	http *http.Client

	mu     sync.Mutex
	tokens map[[sha256.Size]byte]*oauth2.Token
}

func newGraphClient(opts Options, c *http.Client) *graphClient {
	return &graphClient{opts: opts, http: c, tokens: map[[sha256.Size]byte]*oauth2.Token{}}
}

func (g *graphClient) send(ctx context.Context, s domain.ServerSettings, creds Credentials, p *prepared) (Result, error) {
	tok, err := g.token(ctx, s, creds.GraphClientSecret)
	if err != nil {
		return Result{}, err
	}
	user := g.opts.GraphBaseURL + "/v1.0/users/" + url.PathEscape(p.from.addr)
	msg := graphMessageOf(p)

	total := 0
	for _, a := range p.msg.Attachments {
		total += len(a.Data)
	}
	if total <= g.opts.GraphLargeAttachment {
		for _, a := range p.msg.Attachments {
			msg.Attachments = append(msg.Attachments, fileAttachment(a))
		}
		body := map[string]any{"message": msg, "saveToSentItems": true}
		if _, err := g.do(ctx, "sendMail", http.MethodPost, user+"/sendMail", tok, body, http.StatusAccepted); err != nil {
			return Result{}, err
		}
		return g.result(p), nil
	}

	// Large attachments: a draft, attachments added one by one (upload
	// sessions for the large ones), then send.
	raw, err := g.do(ctx, "create draft", http.MethodPost, user+"/messages", tok, msg, http.StatusCreated, http.StatusOK)
	if err != nil {
		return Result{}, err
	}
	var draft struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &draft); err != nil || draft.ID == "" {
		return Result{}, temporary(0, "create draft: response has no message id")
	}
	draftURL := user + "/messages/" + url.PathEscape(draft.ID)
	if err := g.attachAll(ctx, draftURL, tok, p.msg.Attachments); err != nil {
		// Best effort: do not leave a half-built draft behind.
		_, _ = g.do(context.WithoutCancel(ctx), "delete draft", http.MethodDelete, draftURL, tok, nil, http.StatusNoContent)
		return Result{}, err
	}
	if _, err := g.do(ctx, "send draft", http.MethodPost, draftURL+"/send", tok, nil, http.StatusAccepted); err != nil {
		return Result{}, err
	}
	return g.result(p), nil
}

func (g *graphClient) result(p *prepared) Result {
	return Result{Code: http.StatusAccepted, Reply: "Accepted", MessageID: "<" + p.messageID + ">"}
}

func (g *graphClient) attachAll(ctx context.Context, draftURL, tok string, atts []Attachment) error {
	for _, a := range atts {
		if len(a.Data) < g.opts.GraphLargeAttachment {
			if _, err := g.do(ctx, "add attachment", http.MethodPost, draftURL+"/attachments", tok, fileAttachment(a), http.StatusCreated, http.StatusOK); err != nil {
				return err
			}
			continue
		}
		if err := g.upload(ctx, draftURL, tok, a); err != nil {
			return err
		}
	}
	return nil
}

// upload sends one attachment through an upload session, in chunks.
func (g *graphClient) upload(ctx context.Context, draftURL, tok string, a Attachment) error {
	req := map[string]any{"AttachmentItem": map[string]any{
		"attachmentType": "file", "name": a.Filename, "size": len(a.Data), "contentType": contentType(a),
	}}
	raw, err := g.do(ctx, "create upload session", http.MethodPost, draftURL+"/attachments/createUploadSession", tok, req, http.StatusCreated, http.StatusOK)
	if err != nil {
		return err
	}
	var session struct {
		UploadURL string `json:"uploadUrl"`
	}
	if err := json.Unmarshal(raw, &session); err != nil || session.UploadURL == "" {
		return temporary(0, "create upload session: response has no uploadUrl")
	}
	for start := 0; start < len(a.Data); start += g.opts.GraphUploadChunk {
		end := min(start+g.opts.GraphUploadChunk, len(a.Data))
		r, err := http.NewRequestWithContext(ctx, http.MethodPut, session.UploadURL, bytes.NewReader(a.Data[start:end]))
		if err != nil {
			return permanent(0, "upload attachment: "+err.Error())
		}
		// The upload URL is pre-authorised: no Authorization header.
		r.Header.Set("Content-Type", "application/octet-stream")
		r.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, len(a.Data)))
		if _, err := g.roundTrip("upload attachment", r, http.StatusOK, http.StatusCreated); err != nil {
			return err
		}
	}
	return nil
}

// token returns a cached access token or fetches one with the client
// credentials flow.
func (g *graphClient) token(ctx context.Context, s domain.ServerSettings, secret string) (string, error) {
	if s.GraphTenantID == "" || s.GraphClientID == "" || secret == "" {
		return "", permanent(0, "graph settings need a tenant id, a client id and a client secret")
	}
	key := sha256.Sum256([]byte(s.GraphTenantID + "\x00" + s.GraphClientID + "\x00" + secret))
	g.mu.Lock()
	tok := g.tokens[key]
	g.mu.Unlock()
	if tok.Valid() {
		return tok.AccessToken, nil
	}
	tok, err := g.fetchToken(ctx, s, secret)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	g.tokens[key] = tok
	g.mu.Unlock()
	return tok.AccessToken, nil
}

// do sends a JSON request to Graph with the bearer token and returns the
// response body when the status is one of want.
func (g *graphClient) do(ctx context.Context, what, method, u, tok string, body any, want ...int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, permanent(0, what+": "+err.Error())
		}
		rd = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, permanent(0, what+": "+err.Error())
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return g.roundTrip(what, r, want...)
}

// roundTrip classifies the outcome: network errors as for SMTP, HTTP 429
// and 5xx temporary, other statuses not in want permanent (R23).
func (g *graphClient) roundTrip(what string, r *http.Request, want ...int) ([]byte, error) {
	resp, err := g.http.Do(r)
	if err != nil {
		return nil, classify(what, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, classify(what, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return raw, nil
		}
	}
	var ge struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &ge)
	reason := fmt.Sprintf("%s: HTTP %d", what, resp.StatusCode)
	if ge.Error.Code != "" {
		reason += " " + ge.Error.Code + ": " + firstLine(ge.Error.Message)
	}
	code := resp.StatusCode
	return nil, &Error{Temporary: code == http.StatusTooManyRequests || code >= 500, Code: code, Reason: reason}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return strings.TrimSpace(s)
}

type graphRecipient struct {
	EmailAddress graphEmail `json:"emailAddress"`
}

type graphEmail struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
}

type graphBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type graphAttachment struct {
	ODataType    string `json:"@odata.type"`
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes []byte `json:"contentBytes"` // base64 in JSON
}

type graphMessage struct {
	Subject           string            `json:"subject"`
	Body              graphBody         `json:"body"`
	From              *graphRecipient   `json:"from,omitempty"`
	ToRecipients      []graphRecipient  `json:"toRecipients"`
	CcRecipients      []graphRecipient  `json:"ccRecipients,omitempty"`
	BccRecipients     []graphRecipient  `json:"bccRecipients,omitempty"`
	ReplyTo           []graphRecipient  `json:"replyTo,omitempty"`
	InternetMessageID string            `json:"internetMessageId,omitempty"`
	Attachments       []graphAttachment `json:"attachments,omitempty"`
}

func graphMessageOf(p *prepared) graphMessage {
	recips := func(ws []wireAddress) []graphRecipient {
		out := make([]graphRecipient, len(ws))
		for i, w := range ws {
			out[i] = graphRecipient{graphEmail{Address: w.addr, Name: w.name}}
		}
		return out
	}
	m := graphMessage{
		Subject:           p.msg.Subject,
		Body:              graphBody{ContentType: "Text", Content: p.msg.Text},
		From:              &graphRecipient{graphEmail{Address: p.from.addr, Name: p.from.name}},
		ToRecipients:      recips(p.to),
		CcRecipients:      recips(p.cc),
		BccRecipients:     recips(p.bcc),
		InternetMessageID: "<" + p.messageID + ">",
	}
	if p.msg.HTML != "" { // Graph has one body: HTML when there is one
		m.Body = graphBody{ContentType: "HTML", Content: p.msg.HTML}
	}
	if p.replyTo != nil {
		m.ReplyTo = recips([]wireAddress{*p.replyTo})
	}
	return m
}

func fileAttachment(a Attachment) graphAttachment {
	return graphAttachment{ODataType: "#microsoft.graph.fileAttachment", Name: a.Filename, ContentType: contentType(a), ContentBytes: a.Data}
}

func contentType(a Attachment) string {
	if a.ContentType == "" {
		return "application/octet-stream"
	}
	return a.ContentType
}
