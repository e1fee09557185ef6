package message

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/absender/absender/domain"
)

// Limits of R22.
const (
	MaxRecipients = 100
	// MaxAttachments bounds the attachments of a message (R34: every
	// input is bounded; each one is described in MessageQueued).
	MaxAttachments = 100
	// MaxIdempotencyKey bounds an idempotency key, in characters.
	MaxIdempotencyKey = 200
	MaxSize           = 25 << 20 // total of subject, bodies and attachments
	// maxDepth bounds the nesting of archives inspected.
	maxDepth = 8
)

// maxUnpacked bounds what the archives of one attachment may unpack in all
// (a variable for tests).
var maxUnpacked int64 = 256 << 20

// forbidden are the extensions R22 refuses (seed 003).
var forbidden = map[string]bool{}

func init() {
	for _, e := range strings.Fields(".exe .com .cmd .cpl .hta .scf .sct .lnk .bat .js .jse .wsh .ws .wsf .wsc .vbe .vb .vbs .shs .pif .scr") {
		forbidden[e] = true
	}
}

// Draft is a message as the API received it.
type Draft struct {
	From, ReplyTo string // "address" or "Name <address>"; ReplyTo may be ""
	To, Cc, Bcc   []string
	Subject       string
	Text, HTML    string
	Attachments   []AttachmentDraft
}

// AttachmentDraft is an attachment as the API received it.
type AttachmentDraft struct {
	Filename, ContentType, ContentBase64 string
}

// Attachment is a decoded attachment.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	Data        []byte `json:"data"`
}

// Content is what R25 keeps outside the events, encrypted.
type Content struct {
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Parsed is a validated message.
type Parsed struct {
	From        Mailbox
	FromNamed   bool
	ReplyTo     *Mailbox
	ReplyNamed  bool
	To, Cc, Bcc []Mailbox
	Subject     string
	Content     Content
	Size        int
}

// ParseMailbox parses "address" or "Name <address>" (the name optionally
// in double quotes). A name with CR, LF or other control characters is
// refused, never stripped (R22). Errors are INVALID_INPUT naming field.
func ParseMailbox(field, s string) (m Mailbox, named bool, err error) {
	if err := domain.CheckLine(field, s, domain.MaxString); err != nil {
		return Mailbox{}, false, err // R34, as received
	}
	s = strings.TrimSpace(s)
	addr := s
	if strings.HasSuffix(s, ">") {
		lt := strings.LastIndexByte(s, '<')
		if lt < 0 {
			return Mailbox{}, false, domain.InvalidInput(field, "address must be address or Name <address>")
		}
		name := strings.TrimSpace(s[:lt])
		if len(name) >= 2 && strings.HasPrefix(name, `"`) && strings.HasSuffix(name, `"`) {
			name = strings.ReplaceAll(name[1:len(name)-1], `\"`, `"`)
		}
		if reason := domain.ValidDisplayName(name); reason != "" {
			return Mailbox{}, false, domain.InvalidInput(field, "display name "+reason)
		}
		m.Name, named, addr = name, name != "", s[lt+1:len(s)-1]
	}
	if strings.ContainsAny(s, "\r\n") {
		return Mailbox{}, false, domain.InvalidInput(field, "must not contain CR or LF")
	}
	a, err := domain.NormalizeAddress(addr)
	if err != nil {
		return Mailbox{}, false, domain.WithField(err, field)
	}
	m.Address = a.String()
	return m, named, nil
}

// ParseSenders parses From and Reply-To (the R17 step's syntax).
func ParseSenders(d Draft) (Parsed, error) {
	var p Parsed
	var err error
	if p.From, p.FromNamed, err = ParseMailbox("from", d.From); err != nil {
		return Parsed{}, err
	}
	if strings.TrimSpace(d.ReplyTo) != "" {
		rt, named, err := ParseMailbox("replyTo", d.ReplyTo)
		if err != nil {
			return Parsed{}, err
		}
		p.ReplyTo, p.ReplyNamed = &rt, named
	}
	return p, nil
}

// Validate checks R22 and R5 field by field in schema order (from, replyTo,
// to, cc, bcc, subject, text, html, attachments) on a message whose From
// and Reply-To were parsed by ParseSenders; smtpUTF8 is the resolved
// transport's flag. It returns the parsed message with decoded content.
func Validate(p Parsed, d Draft, smtpUTF8 bool) (Parsed, error) {
	if err := CheckUTF8("from", p.From.Address, smtpUTF8); err != nil {
		return Parsed{}, err
	}
	if p.ReplyTo != nil {
		if err := CheckUTF8("replyTo", p.ReplyTo.Address, smtpUTF8); err != nil {
			return Parsed{}, err
		}
	}
	seen := map[string]bool{}
	list := func(field string, in []string) ([]Mailbox, error) {
		out := make([]Mailbox, 0, min(len(in), MaxRecipients))
		for i, s := range in {
			m, _, err := ParseMailbox(field, s)
			if err != nil {
				var de *domain.Error
				if e, ok := err.(*domain.Error); ok {
					de = e
					return nil, domain.InvalidInput(field, fmt.Sprintf("recipient %d: %s", i+1, de.Message))
				}
				return nil, err
			}
			if err := CheckUTF8(field, m.Address, smtpUTF8); err != nil {
				return nil, err
			}
			key := domain.AddressKey(m.Address)
			if seen[key] {
				continue // duplicates are removed, across to, cc and bcc
			}
			seen[key] = true
			if len(seen) > MaxRecipients {
				// Stop here: a huge list costs no more than 101 addresses.
				return nil, domain.InvalidInput(field, fmt.Sprintf("a message has at most %d recipients across to, cc and bcc", MaxRecipients))
			}
			out = append(out, m)
		}
		return out, nil
	}
	var err error
	if p.To, err = list("to", d.To); err != nil {
		return Parsed{}, err
	}
	if p.Cc, err = list("cc", d.Cc); err != nil {
		return Parsed{}, err
	}
	if p.Bcc, err = list("bcc", d.Bcc); err != nil {
		return Parsed{}, err
	}
	if n := len(p.To) + len(p.Cc) + len(p.Bcc); n < 1 || n > MaxRecipients {
		field := "to"
		if len(d.To) == 0 && len(d.Cc) > 0 {
			field = "cc"
		}
		return Parsed{}, domain.InvalidInput(field, fmt.Sprintf("a message needs 1 to %d recipients across to, cc and bcc, not %d", MaxRecipients, n))
	}
	if p.Subject, err = domain.NewSubject("subject", d.Subject); err != nil {
		return Parsed{}, err
	}
	if err := domain.CheckBody("text", d.Text); err != nil {
		return Parsed{}, err
	}
	if err := domain.CheckBody("html", d.HTML); err != nil {
		return Parsed{}, err
	}
	p.Content.Text, p.Content.HTML = d.Text, d.HTML
	size := len(d.Subject) + len(d.Text) + len(d.HTML)
	if len(d.Attachments) > MaxAttachments {
		return Parsed{}, domain.InvalidInput("attachments", fmt.Sprintf("a message has at most %d attachments", MaxAttachments))
	}
	for i, a := range d.Attachments {
		att, err := decodeAttachment(i, a)
		if err != nil {
			return Parsed{}, err
		}
		size += len(att.Data)
		if size > MaxSize {
			return Parsed{}, domain.InvalidInput("attachments", fmt.Sprintf("the message is larger than %d MiB", MaxSize>>20))
		}
		p.Content.Attachments = append(p.Content.Attachments, att)
	}
	if size > MaxSize {
		return Parsed{}, domain.InvalidInput("text", fmt.Sprintf("the message is larger than %d MiB", MaxSize>>20))
	}
	p.Size = size
	return p, nil
}

// CheckUTF8 refuses an address with an internationalised local part for a
// transport without smtpUtf8 (R5); errors are INVALID_INPUT naming field.
func CheckUTF8(field, address string, smtpUTF8 bool) error {
	a, err := domain.NormalizeAddress(address)
	if err != nil {
		return domain.WithField(err, field)
	}
	if a.IsInternationalLocalPart() && !smtpUTF8 {
		return domain.InvalidInput(field, address+" has an internationalised local part, which the transport cannot send (smtpUtf8 is off, R5)")
	}
	return nil
}

func decodeAttachment(i int, a AttachmentDraft) (Attachment, error) {
	where := fmt.Sprintf("attachment %d", i+1)
	if reason := domain.ValidDisplayName(a.Filename); reason != "" {
		return Attachment{}, domain.InvalidInput("attachments", where+": filename "+reason)
	}
	name := strings.TrimSpace(a.Filename)
	if name == "" {
		return Attachment{}, domain.InvalidInput("attachments", where+": filename is required")
	}
	ct := a.ContentType
	if err := domain.CheckLine("attachments", ct, domain.MaxString); err != nil {
		var de *domain.Error
		errors.As(err, &de)
		return Attachment{}, domain.InvalidInput("attachments", where+": contentType "+de.Message)
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil || strings.ContainsAny(ct, "\t") {
		return Attachment{}, domain.InvalidInput("attachments", where+": contentType is not a media type")
	}
	data, err := base64.StdEncoding.DecodeString(a.ContentBase64)
	if err != nil {
		return Attachment{}, domain.InvalidInput("attachments", where+": contentBase64 is not valid base64")
	}
	budget := maxUnpacked
	if err := inspect(name, data, 0, &budget); err != nil {
		return Attachment{}, err
	}
	return Attachment{Filename: name, ContentType: ct, Data: data}, nil
}

// ForbiddenName reports whether a file name has an extension R22 refuses
// (case-insensitive; trailing dots and spaces, which Windows ignores, too).
func ForbiddenName(name string) bool {
	base := strings.TrimRight(path.Base(strings.ReplaceAll(name, `\`, "/")), ". ")
	return forbidden[strings.ToLower(path.Ext(base))]
}

// inspect refuses a forbidden file, also inside ZIP archives, also nested.
// budget is what nested archives may still unpack, shared by the whole
// attachment, so archives of archives cannot multiply it.
func inspect(name string, data []byte, depth int, budget *int64) error {
	if ForbiddenName(name) {
		return &domain.Error{Code: domain.CodeAttachmentForbidden, Field: "attachments", Message: name + " has a forbidden file extension"}
	}
	if !isZip(name, data) {
		return nil
	}
	refuse := func(reason string) error {
		return &domain.Error{Code: domain.CodeAttachmentForbidden, Field: "attachments", Message: name + ": " + reason}
	}
	if depth >= maxDepth {
		return refuse("archives are nested too deeply to be checked")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return refuse("the archive cannot be read, so it cannot be checked")
	}
	for _, f := range zr.File {
		inner := name + "/" + f.Name
		if ForbiddenName(f.Name) {
			return &domain.Error{Code: domain.CodeAttachmentForbidden, Field: "attachments", Message: inner + " has a forbidden file extension"}
		}
		if f.FileInfo().IsDir() || (!strings.HasSuffix(strings.ToLower(f.Name), ".zip") && f.UncompressedSize64 < 4) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return refuse("entry " + f.Name + " cannot be read, so it cannot be checked")
		}
		// Only the first bytes decide whether an entry is an archive; read
		// it whole only then, within the budget.
		head := make([]byte, 4)
		n, _ := io.ReadFull(rc, head)
		if !isZip(f.Name, head[:n]) {
			_ = rc.Close()
			continue
		}
		rest, err := io.ReadAll(io.LimitReader(rc, *budget))
		_ = rc.Close()
		if err != nil {
			return refuse("entry " + f.Name + " cannot be read, so it cannot be checked")
		}
		*budget -= int64(len(rest))
		if *budget <= 0 {
			return refuse("the archive unpacks to too much data to be checked")
		}
		if err := inspect(inner, append(head[:n], rest...), depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

func isZip(name string, data []byte) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimRight(name, ". ")), ".zip") ||
		bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06"))
}

// Describe returns the parts of content as events hold them (R25): sizes
// and HMAC-SHA256 under key, the message's content key.
func Describe(c Content, key []byte) (text, html *Part, atts []AttachmentInfo) {
	part := func(s string) *Part {
		if s == "" {
			return nil
		}
		return &Part{Size: len(s), HMAC: Sum(key, []byte(s))}
	}
	for _, a := range c.Attachments {
		atts = append(atts, AttachmentInfo{Filename: a.Filename, ContentType: a.ContentType, Size: len(a.Data), HMAC: Sum(key, a.Data)})
	}
	return part(c.Text), part(c.HTML), atts
}

// Sum is the hex HMAC-SHA256 of b under key.
func Sum(key, b []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}
