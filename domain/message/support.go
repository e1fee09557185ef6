package message

import (
	"fmt"
	"strings"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// QueueSupportInput is what QueueSupport decides on: a user's support
// request and the facts its caller gathered.
type QueueSupportInput struct {
	// MessageID is the new message's id.
	MessageID string
	// UserID is the user the request acts for; "" for a token without one.
	UserID        string
	Subject, Body string

	// Version is the product version the system information names (R7).
	Version string
	// Support is the system's support settings (R7).
	Support system.Support
	// TenantName and TenantSupportAddress are the user's tenant's name and
	// its own support address ("" when it has none).
	TenantName, TenantSupportAddress string
	// Facts are what a resolution of the user reads (no address keys): the
	// user, the tenant's transport and system mailbox (R2, R8), the servers.
	Facts Facts
}

// CheckRequester is the first check of a support request: it is sent as a
// user. QueueSupport runs it first; a caller may run it before gathering
// facts.
func (in QueueSupportInput) CheckRequester() error {
	if in.UserID == "" {
		return domain.Forbidden("support requests are sent as a user; this token has none")
	}
	return nil
}

// QueueSupport decides a user's support request (R7) to the effective
// support address (tenant.EffectiveSupportAddress), From the tenant's
// system mailbox (R8), Reply-To the user, with the system information when
// the system attaches it. In this order: the requester (FORBIDDEN); R1/R2
// (SENDING_DISABLED); the subject and body (R22, R34: INVALID_INPUT); a
// support address (INVALID_INPUT supportAddress); the size with the
// system information (INVALID_INPUT body). The saga resolves the message
// like any message of the user.
func QueueSupport(in QueueSupportInput) (Decision, error) {
	if err := in.CheckRequester(); err != nil {
		return Decision{}, err
	}
	f := in.Facts
	if f.Tenant.Transport == domain.TransportNone {
		if _, err := Resolve(Request{Kind: KindSupport}, f); err != nil {
			return Decision{}, err // R1, R2
		}
	}
	subject, err := domain.NewSubject("subject", in.Subject)
	if err != nil {
		return Decision{}, err // R22, R34
	}
	if err := domain.CheckBody("body", in.Body); err != nil {
		return Decision{}, err
	}
	support := tenant.EffectiveSupportAddress(in.TenantSupportAddress, in.Support)
	if support == "" {
		return Decision{}, domain.InvalidInput("supportAddress", "no support address is configured")
	}
	to, _, err := ParseMailbox("supportAddress", support)
	if err != nil {
		return Decision{}, err
	}
	from := Mailbox{Name: f.Tenant.SystemMailboxName, Address: f.Tenant.SystemMailboxAddress}
	var replyTo *Mailbox
	if f.Viewer.Email != "" {
		replyTo = &Mailbox{Name: f.Viewer.DisplayName, Address: f.Viewer.Email}
	}
	body := in.Body
	if in.Support.AttachSystemInfo {
		body += "\n\n-- \n" + systemInfo(in)
	}
	if len(subject)+len(body) > MaxSize {
		return Decision{}, domain.InvalidInput("body", "the request is too large")
	}
	q := MessageQueued{MessageID: in.MessageID, TenantID: f.Viewer.TenantID, UserID: in.UserID, Kind: KindSupport,
		From: from, ReplyTo: replyTo, To: []Mailbox{to}, Subject: subject, Size: len(subject) + len(body)}
	return Decision{Queued: q, Content: Content{Text: body}}, nil
}

// systemInfo is R7's configuration summary: never a secret, a host name
// at most.
func systemInfo(in QueueSupportInput) string {
	f := in.Facts
	var b strings.Builder
	fmt.Fprintf(&b, "Absender %s\n", in.Version)
	fmt.Fprintf(&b, "Tenant: %s (%s)\n", in.TenantName, f.Tenant.ID)
	fmt.Fprintf(&b, "User: %s <%s>, role %s\n", f.Viewer.DisplayName, f.Viewer.Email, f.Viewer.Role)
	fmt.Fprintf(&b, "Effective transport: %s\n", f.Tenant.Transport)
	describe := func(label string, st *domain.ServerSettings) {
		if st == nil {
			fmt.Fprintf(&b, "%s: none\n", label)
			return
		}
		if st.Auth == domain.AuthMicrosoftGraph {
			fmt.Fprintf(&b, "%s: Microsoft Graph, sender %s\n", label, st.SenderAddress)
			return
		}
		fmt.Fprintf(&b, "%s: %s port %d, %s, auth %s, sender %s, smtpUtf8 %t\n", label, st.Host, st.EffectivePort(), st.Encryption, st.Auth, st.SenderAddress, st.SMTPUTF8)
	}
	describe("System server", f.SystemSettings)
	describe("Tenant server", f.TenantSettings)
	fmt.Fprintf(&b, "Policy: allowSystemServer %t, allowOwnServer %t\n", f.Tenant.Policy.AllowSystemServer, f.Tenant.Policy.AllowOwnServer)
	return b.String()
}
