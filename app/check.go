package app

import (
	"context"
	"strings"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// CheckSettings are the settings a connection check (checkMailServer)
// uses, with their secrets in plain text: never log them.
type CheckSettings struct {
	Target    domain.TransportKind
	TenantID  string
	MailboxID string
	Unsaved   bool
	Settings  domain.ServerSettings
	// Password and GraphClientSecret are plain text.
	Password, GraphClientSecret string
}

// Checks are the connection checks of mail server settings.
type Checks struct{ *core }

// CheckMailServer is checkMailServer: it finds the settings to check
// (settingsToCheck), has probe check them (the API's transports; probe
// may refuse with an error, e.g. RATE_LIMITED) and records the check's
// audit trace (MailServerChecked).
func (s Checks) CheckMailServer(ctx context.Context, tenantID, mailboxID string, in *ServerSettingsInput,
	probe func(ctx context.Context, c CheckSettings) (ok bool, failedStep string, err error)) (Result, error) {
	return command(ctx, s.core, "checkMailServer", func(ctx context.Context) (Result, error) {
		cs, err := s.settingsToCheck(ctx, tenantID, mailboxID, in)
		if err != nil {
			return Result{}, err
		}
		ok, failedStep, err := probe(ctx, cs)
		if err != nil {
			return Result{}, err
		}
		return s.record(ctx, cs, ok, failedStep)
	})
}

// settingsToCheck returns the settings checkMailServer checks: the stored
// settings of the mailbox (mailboxID), of the tenant's own server
// (tenantID), or of the system server (neither); with in, those unsaved
// settings instead, validated as configure* validates them (INVALID_INPUT
// naming the field). An omitted password or client secret in in is the
// stored one only when the stored settings use the same auth and the same
// host (Graph: the same directory id), so a stored secret is never sent to
// another server. No input and nothing stored is INVALID_INPUT naming the
// target's argument ("input" for the system server). Giving both ids is
// INVALID_INPUT on mailboxId; the caller checks existence and permission
// first (R19).
func (s Checks) settingsToCheck(ctx context.Context, tenantID, mailboxID string, in *ServerSettingsInput) (CheckSettings, error) {
	if tenantID != "" && mailboxID != "" {
		return CheckSettings{}, domain.InvalidInput("mailboxId", "give tenantId or mailboxId, not both")
	}
	out := CheckSettings{Unsaved: in != nil}
	var (
		stored     *domain.ServerSettings
		streamID   string
		argument   string
		noneStored string
	)
	switch {
	case mailboxID != "":
		var m mailbox.State
		if err := s.loadStream(ctx, domain.StreamMailbox, mailboxID, &m); err != nil {
			return CheckSettings{}, err
		}
		if !m.Exists() {
			return CheckSettings{}, domain.NotFound("mailbox")
		}
		if ms, ok := m.Settings(); ok {
			stored = &ms
		}
		out.Target, out.TenantID, out.MailboxID = domain.TransportMailbox, m.TenantID(), mailboxID
		streamID = StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: mailboxID})
		argument, noneStored = "mailboxId", "the mailbox has no own server settings; give input to check unsaved ones"
	case tenantID != "":
		var t tenant.State
		if err := s.loadStream(ctx, domain.StreamTenant, tenantID, &t); err != nil {
			return CheckSettings{}, err
		}
		if !t.Exists() {
			return CheckSettings{}, domain.NotFound("tenant")
		}
		if ts, ok := t.Server(); ok {
			stored = &ts
		}
		out.Target, out.TenantID = domain.TransportTenantServer, tenantID
		streamID = StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID})
		argument, noneStored = "tenantId", "the tenant has no mail server of its own; give input to check unsaved settings"
	default:
		var sys system.State
		if err := s.loadStream(ctx, domain.StreamSystem, "system", &sys); err != nil {
			return CheckSettings{}, err
		}
		if ss, ok := sys.Settings(); ok {
			stored = &ss
		}
		out.Target = domain.TransportSystemServer
		streamID = StreamID(systemRef)
		argument, noneStored = "input", "no system mail server is configured; give input to check unsaved settings"
	}

	if in == nil {
		if stored == nil {
			return CheckSettings{}, domain.InvalidInput(argument, noneStored)
		}
		out.Settings = stored.WithoutSecrets()
		return out, s.revealForCheck(&out, streamID, *stored)
	}

	// Unsaved settings: validated like configure*, the secrets in plain
	// text (they are never sealed or stored).
	enc, err := domain.ParseEncryption(in.Encryption)
	if err != nil {
		return CheckSettings{}, err
	}
	auth, err := domain.ParseServerAuth(in.Auth)
	if err != nil {
		return CheckSettings{}, err
	}
	dom := domain.ServerSettingsInput{
		Host: in.Host, Port: in.Port, Encryption: enc, Auth: auth, Username: in.Username,
		GraphTenantID: in.GraphTenantID, GraphClientID: in.GraphClientID,
		SenderAddress: in.SenderAddress, SenderName: in.SenderName, SMTPUTF8: in.SMTPUTF8,
		Password: plainSecret(in.Password), GraphClientSecret: plainSecret(in.GraphClientSecret),
	}
	if err := domain.CheckServerSettingsText(dom, in.Password, in.GraphClientSecret); err != nil {
		return CheckSettings{}, err
	}
	// The stored secrets may fill in omitted ones only for the same server.
	var previous *domain.ServerSettings
	if stored != nil && sameServer(*stored, auth, in) {
		p := *stored
		var plain CheckSettings
		if err := s.revealForCheck(&plain, streamID, p); err != nil {
			return CheckSettings{}, err
		}
		p.Password, p.GraphClientSecret = domain.Secret(plain.Password), domain.Secret(plain.GraphClientSecret)
		previous = &p
	}
	settings, err := domain.NewServerSettings(dom, previous)
	if err != nil {
		return CheckSettings{}, err
	}
	out.Settings = settings.WithoutSecrets()
	out.Password, out.GraphClientSecret = string(settings.Password), string(settings.GraphClientSecret)
	return out, nil
}

// sameServer tells whether unsaved settings address the stored server:
// the same auth and host (Graph: the same directory id).
func sameServer(stored domain.ServerSettings, auth domain.ServerAuth, in *ServerSettingsInput) bool {
	if stored.Auth != auth {
		return false
	}
	if auth == domain.AuthMicrosoftGraph {
		return in.GraphTenantID != nil && strings.TrimSpace(*in.GraphTenantID) == stored.GraphTenantID
	}
	return in.Host != nil && domain.NormalHost(strings.TrimSpace(*in.Host)) == stored.Host
}

// plainSecret carries a plain-text secret through the domain's validation
// (which only tests whether it is there); it is never stored.
func plainSecret(p *string) *domain.Secret {
	if p == nil {
		return nil
	}
	sec := domain.Secret(*p)
	return &sec
}

func (s Checks) revealForCheck(out *CheckSettings, streamID string, stored domain.ServerSettings) error {
	var err error
	if out.Password, err = s.revealSecret(streamID, "password", stored.Password); err != nil {
		return err
	}
	out.GraphClientSecret, err = s.revealSecret(streamID, "graphClientSecret", stored.GraphClientSecret)
	return err
}

// record appends the audit trace of a connection check on a stream of its
// own (domain.StreamCheck), so no configuration stream's version moves
// (the saga's AppendIf compares them).
func (s Checks) record(ctx context.Context, c CheckSettings, ok bool, failedStep string) (Result, error) {
	ev := check.MailServerChecked{TenantID: c.TenantID, Target: c.Target.String(), MailboxID: c.MailboxID,
		Unsaved: c.Unsaved, OK: ok, FailedStep: failedStep}
	if c.Settings.Auth != domain.AuthMicrosoftGraph {
		ev.Host = c.Settings.Host
	}
	id := s.newID()
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		if err := a.touch(ctx, domain.StreamCheck, id); err != nil {
			return nil, err
		}
		return one(domain.StreamCheck, id, []domain.Event{ev}), nil
	})
}
