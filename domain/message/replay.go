package message

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/absender/absender/domain"
)

// SameContent reports whether a draft sent again with an idempotency key
// asks for the message q that key already queued (R23: the same content
// returns the existing message, other content is CONFLICT). Content is
// every field but the key, compared after normalisation: addresses
// case-folded, duplicate recipients removed across to, cc and bcc (as
// Validate removes them), the subject as NewSubject keeps it, and bodies
// and attachments (name, type, bytes) against the stored content c. When
// the content was purged (c nil, R25) bodies and attachments are compared
// by size, name and type: what is gone cannot be compared further.
func SameContent(q MessageQueued, d Draft, c *Content) bool {
	p, err := ParseSenders(d)
	if err != nil || !sameMailbox(p.From, q.From, p.FromNamed, q.FromNamed) {
		return false
	}
	if (p.ReplyTo == nil) != (q.ReplyTo == nil) || p.ReplyTo != nil && !sameMailbox(*p.ReplyTo, *q.ReplyTo, true, true) {
		return false
	}
	seen := map[string]bool{}
	for _, f := range []struct {
		draft  []string
		queued []Mailbox
	}{{d.To, q.To}, {d.Cc, q.Cc}, {d.Bcc, q.Bcc}} {
		var got []string
		for _, s := range f.draft {
			m, _, err := ParseMailbox("to", s)
			if err != nil {
				return false
			}
			if k := domain.AddressKey(m.Address); !seen[k] {
				seen[k] = true
				got = append(got, k+"\x00"+m.Name)
			}
		}
		want := make([]string, len(f.queued))
		for i, m := range f.queued {
			want[i] = domain.AddressKey(m.Address) + "\x00" + m.Name
		}
		if !slices.Equal(got, want) {
			return false
		}
	}
	if subject, err := domain.NewSubject("subject", d.Subject); err != nil || subject != q.Subject {
		return false
	}
	if len(d.Attachments) != len(q.Attachments) {
		return false
	}
	if c == nil {
		return samePart(q.Text, len(d.Text)) && samePart(q.HTML, len(d.HTML)) && sameAttachments(d, q.Attachments, nil)
	}
	return d.Text == c.Text && d.HTML == c.HTML && len(c.Attachments) == len(d.Attachments) && sameAttachments(d, q.Attachments, c.Attachments)
}

// sameMailbox compares a parsed sender with the queued one: the address
// case-folded, and the name when it was given (a bare From was queued
// with its option's name, which the draft does not repeat).
func sameMailbox(p, q Mailbox, pNamed, qNamed bool) bool {
	if domain.AddressKey(p.Address) != domain.AddressKey(q.Address) || pNamed != qNamed {
		return false
	}
	return !pNamed || p.Name == q.Name
}

func samePart(p *Part, size int) bool {
	if p == nil {
		return size == 0
	}
	return p.Size == size
}

func sameAttachments(d Draft, infos []AttachmentInfo, stored []Attachment) bool {
	for i, a := range d.Attachments {
		data, err := base64.StdEncoding.DecodeString(a.ContentBase64)
		if err != nil || strings.TrimSpace(a.Filename) != infos[i].Filename || a.ContentType != infos[i].ContentType || len(data) != infos[i].Size {
			return false
		}
		if stored != nil && !bytes.Equal(data, stored[i].Data) {
			return false
		}
	}
	return true
}
