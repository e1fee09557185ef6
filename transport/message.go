package transport

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/absender/absender/domain"
)

// Mailbox is an address with an optional display name.
type Mailbox struct {
	Name    string
	Address string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Filename    string
	ContentType string // e.g. "application/pdf"; "application/octet-stream" when empty
	Data        []byte
}

// Message is what a transport sends. The envelope sender is always
// From.Address (R22); Bcc recipients are in the envelope only, never in a
// header. MessageID (without angle brackets) is generated as
// uuid@from-domain when empty.
type Message struct {
	From        Mailbox
	ReplyTo     Mailbox // zero: no Reply-To
	To, Cc, Bcc []Mailbox
	Subject     string
	Text, HTML  string
	Attachments []Attachment
	MessageID   string
}

// Result is the outcome of a send the server accepted.
type Result struct {
	Code      int    // the server's final reply code (250 for SMTP, 202 for Graph)
	Reply     string // the server's final reply text
	MessageID string // the Message-ID header used, with angle brackets
	Refused   []Refusal
}

// Refusal is a recipient the server refused while it accepted others.
type Refusal struct {
	Recipient string // as sent on the wire
	Code      int
	Reply     string
	Temporary bool
}

// Credentials are the plain secrets of the server settings, decrypted in
// memory for one send (app.SagaPort.RevealSecret). They format as
// "[redacted]" in fmt, slog and JSON.
type Credentials struct {
	Password          string // PASSWORD auth
	GraphClientSecret string // MICROSOFT_GRAPH auth
}

func (Credentials) String() string               { return "[redacted]" }
func (Credentials) GoString() string             { return "transport.Credentials{[redacted]}" }
func (Credentials) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Credentials) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

func (c Credentials) secrets() []string { return []string{c.Password, c.GraphClientSecret} }

// wireAddress is an address as it goes on the wire: the local part as
// given, the domain IDNA-encoded (R5). intl reports a non-ASCII local
// part, which needs SMTPUTF8.
type wireAddress struct {
	name string
	addr string
	intl bool
}

func toWire(field string, m Mailbox) (wireAddress, error) {
	a, err := domain.NormalizeAddress(m.Address)
	if err != nil {
		return wireAddress{}, permanent(0, fmt.Sprintf("invalid %s address %q", field, m.Address))
	}
	if reason := domain.ValidDisplayName(m.Name); reason != "" {
		return wireAddress{}, permanent(0, fmt.Sprintf("invalid %s display name: %s", field, reason))
	}
	return wireAddress{name: m.Name, addr: a.ASCIIDomain(), intl: a.IsInternationalLocalPart()}, nil
}

// prepared is a Message checked and translated to wire forms.
type prepared struct {
	msg        Message
	from       wireAddress
	replyTo    *wireAddress
	to, cc     []wireAddress
	bcc        []wireAddress
	messageID  string // without brackets
	needsUTF8  bool
	recipients []string // envelope: to, cc, bcc without duplicates
}

func prepare(m Message) (*prepared, error) {
	p := &prepared{msg: m}
	var err error
	if p.from, err = toWire("from", m.From); err != nil {
		return nil, err
	}
	if m.ReplyTo.Address != "" {
		rt, err := toWire("reply-to", m.ReplyTo)
		if err != nil {
			return nil, err
		}
		p.replyTo = &rt
	}
	seen := map[string]bool{}
	list := func(field string, in []Mailbox) ([]wireAddress, error) {
		out := make([]wireAddress, 0, len(in))
		for _, mb := range in {
			w, err := toWire(field, mb)
			if err != nil {
				return nil, err
			}
			out = append(out, w)
			if key := strings.ToLower(w.addr); !seen[key] {
				seen[key] = true
				p.recipients = append(p.recipients, w.addr)
			}
		}
		return out, nil
	}
	if p.to, err = list("to", m.To); err != nil {
		return nil, err
	}
	if p.cc, err = list("cc", m.Cc); err != nil {
		return nil, err
	}
	if p.bcc, err = list("bcc", m.Bcc); err != nil {
		return nil, err
	}
	if len(p.recipients) == 0 {
		return nil, permanent(0, "message has no recipients")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, permanent(0, "subject contains CR or LF")
	}
	p.needsUTF8 = p.from.intl || (p.replyTo != nil && p.replyTo.intl)
	for _, l := range [][]wireAddress{p.to, p.cc, p.bcc} {
		for _, w := range l {
			p.needsUTF8 = p.needsUTF8 || w.intl
		}
	}
	p.messageID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(m.MessageID), "<"), ">")
	if p.messageID == "" {
		p.messageID = uuid.NewString() + "@" + p.from.addr[strings.LastIndexByte(p.from.addr, '@')+1:]
	}
	if strings.ContainsAny(p.messageID, "<>\r\n \t") || !strings.Contains(p.messageID, "@") {
		return nil, permanent(0, fmt.Sprintf("invalid message id %q", m.MessageID))
	}
	return p, nil
}
