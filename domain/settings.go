package domain

import (
	"net/netip"
	"strings"
)

// Secret is an already-encrypted secret (SMTP password, Graph client
// secret): ciphertext, opaque to the domain. The empty Secret means absent.
type Secret string

// Encryption is how a mail server connection is protected (R4).
type Encryption struct{ s string }

// The encryptions.
var (
	EncryptionNone     = Encryption{"NONE"}
	EncryptionSTARTTLS = Encryption{"STARTTLS"}
	EncryptionTLS      = Encryption{"TLS"}
)

// ParseEncryption parses the GraphQL enum name.
func ParseEncryption(s string) (Encryption, error) {
	for _, e := range []Encryption{EncryptionNone, EncryptionSTARTTLS, EncryptionTLS} {
		if e.s == s {
			return e, nil
		}
	}
	return Encryption{}, InvalidInput("encryption", "unknown encryption "+s)
}

func (e Encryption) String() string { return e.s }

// IsZero reports whether e is the zero (unset) value.
func (e Encryption) IsZero() bool { return e.s == "" }

// DefaultPort is the port used when none is given (R4): 25, 587 or 465.
func (e Encryption) DefaultPort() int {
	switch e {
	case EncryptionSTARTTLS:
		return 587
	case EncryptionTLS:
		return 465
	}
	return 25
}

// MarshalText encodes the enum name.
func (e Encryption) MarshalText() ([]byte, error) { return []byte(e.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero value.
func (e *Encryption) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*e = Encryption{}
		return nil
	}
	p, err := ParseEncryption(string(b))
	*e = p
	return err
}

// ServerAuth is how Absender authenticates to a mail server (R4).
type ServerAuth struct{ s string }

// The authentication kinds.
var (
	AuthNone           = ServerAuth{"NONE"}
	AuthPassword       = ServerAuth{"PASSWORD"}
	AuthMicrosoftGraph = ServerAuth{"MICROSOFT_GRAPH"}
)

// ParseServerAuth parses the GraphQL enum name.
func ParseServerAuth(s string) (ServerAuth, error) {
	for _, a := range []ServerAuth{AuthNone, AuthPassword, AuthMicrosoftGraph} {
		if a.s == s {
			return a, nil
		}
	}
	return ServerAuth{}, InvalidInput("auth", "unknown auth "+s)
}

func (a ServerAuth) String() string { return a.s }

// IsZero reports whether a is the zero (unset) value.
func (a ServerAuth) IsZero() bool { return a.s == "" }

// MarshalText encodes the enum name.
func (a ServerAuth) MarshalText() ([]byte, error) { return []byte(a.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero value.
func (a *ServerAuth) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*a = ServerAuth{}
		return nil
	}
	p, err := ParseServerAuth(string(b))
	*a = p
	return err
}

// ServerSettings are validated mail server settings (R4), as stored in
// events. Fields the auth kind does not use are empty: Host and Port with
// MICROSOFT_GRAPH; Username and Password unless PASSWORD; the Graph fields
// unless MICROSOFT_GRAPH. SenderAddress is the normalised display form.
type ServerSettings struct {
	Host              string     `json:"host,omitempty"`
	Port              int        `json:"port,omitempty"`
	Encryption        Encryption `json:"encryption"`
	Auth              ServerAuth `json:"auth"`
	Username          string     `json:"username,omitempty"`
	Password          Secret     `json:"password,omitempty"`
	GraphTenantID     string     `json:"graphTenantId,omitempty"`
	GraphClientID     string     `json:"graphClientId,omitempty"`
	GraphClientSecret Secret     `json:"graphClientSecret,omitempty"`
	SenderAddress     string     `json:"senderAddress"`
	SenderName        string     `json:"senderName,omitempty"`
	SMTPUTF8          bool       `json:"smtpUtf8"`
}

// EffectivePort is Port, or the encryption's default port (R4) when none
// is stored.
func (s ServerSettings) EffectivePort() int {
	if s.Port != 0 {
		return s.Port
	}
	return s.Encryption.DefaultPort()
}

// HasPassword reports whether a password is stored (the API shows this, never the secret).
func (s ServerSettings) HasPassword() bool { return s.Password != "" }

// HasGraphClientSecret reports whether a Graph client secret is stored.
func (s ServerSettings) HasGraphClientSecret() bool { return s.GraphClientSecret != "" }

// WithoutSecrets returns a copy with Password and GraphClientSecret removed.
func (s ServerSettings) WithoutSecrets() ServerSettings {
	s.Password, s.GraphClientSecret = "", ""
	return s
}

// ServerSettingsInput mirrors the GraphQL ServerSettingsInput. Nil means
// omitted. Password and GraphClientSecret are already encrypted by the
// caller; an empty Secret counts as omitted.
type ServerSettingsInput struct {
	Host              *string
	Port              *int
	Encryption        Encryption
	Auth              ServerAuth
	Username          *string
	Password          *Secret
	GraphTenantID     *string
	GraphClientID     *string
	GraphClientSecret *Secret
	SenderAddress     string
	SenderName        *string
	SMTPUTF8          *bool
}

// NormalHost is the one stored form of a valid server host (R4): an IP
// address without brackets in its canonical text form ("[FC00:0::1]" and
// "fc00::1" are both "fc00::1"), a host name as given. The dialer brackets
// an IPv6 address itself (net.JoinHostPort).
func NormalHost(host string) string {
	bare := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(bare); err == nil && a.Zone() == "" && (a.Is6() || bare == host) {
		return a.String()
	}
	return host
}

// NewServerSettings validates in (R4) and returns the settings to store.
// previous is the stored settings on update (nil when none): an omitted
// password or client secret keeps the previous one when previous used the
// same auth kind; changing auth drops what the new kind does not use.
// Errors are INVALID_INPUT naming the first failing field in schema order:
// host, port, encryption, auth, username, password, graphTenantId,
// graphClientId, graphClientSecret, senderAddress, senderName.
//
// Host is required and must be a host name or IP unless auth is
// MICROSOFT_GRAPH (where host and port are unused and not stored, but a
// given port must still be 1–65535).
func NewServerSettings(in ServerSettingsInput, previous *ServerSettings) (ServerSettings, error) {
	if err := CheckServerSettingsText(in, nil, nil); err != nil {
		return ServerSettings{}, err // R34, before R4
	}
	var out ServerSettings
	graph := in.Auth == AuthMicrosoftGraph

	host := strings.TrimSpace(deref(in.Host))
	if !graph {
		if host == "" {
			return ServerSettings{}, InvalidInput("host", "host is required")
		}
		if !ValidHost(host) {
			return ServerSettings{}, InvalidInput("host", "host is not a valid host name or IP address")
		}
		out.Host = NormalHost(host)
	}
	if in.Port != nil && (*in.Port < 1 || *in.Port > 65535) {
		return ServerSettings{}, InvalidInput("port", "port must be between 1 and 65535")
	}
	if in.Encryption.IsZero() {
		return ServerSettings{}, InvalidInput("encryption", "encryption is required")
	}
	out.Encryption = in.Encryption
	if !graph {
		out.Port = in.Encryption.DefaultPort()
		if in.Port != nil {
			out.Port = *in.Port
		}
	}
	if in.Auth.IsZero() {
		return ServerSettings{}, InvalidInput("auth", "auth is required")
	}
	out.Auth = in.Auth

	switch in.Auth {
	case AuthPassword:
		out.Username = strings.TrimSpace(deref(in.Username))
		if out.Username == "" {
			return ServerSettings{}, InvalidInput("username", "username is required for PASSWORD auth")
		}
		out.Password = keepSecret(in.Password, previous, AuthPassword, func(p *ServerSettings) Secret { return p.Password })
		if out.Password == "" {
			return ServerSettings{}, InvalidInput("password", "password is required for PASSWORD auth")
		}
	case AuthMicrosoftGraph:
		out.GraphTenantID = strings.TrimSpace(deref(in.GraphTenantID))
		if out.GraphTenantID == "" {
			return ServerSettings{}, InvalidInput("graphTenantId", "graphTenantId is required for MICROSOFT_GRAPH auth")
		}
		out.GraphClientID = strings.TrimSpace(deref(in.GraphClientID))
		if out.GraphClientID == "" {
			return ServerSettings{}, InvalidInput("graphClientId", "graphClientId is required for MICROSOFT_GRAPH auth")
		}
		out.GraphClientSecret = keepSecret(in.GraphClientSecret, previous, AuthMicrosoftGraph, func(p *ServerSettings) Secret { return p.GraphClientSecret })
		if out.GraphClientSecret == "" {
			return ServerSettings{}, InvalidInput("graphClientSecret", "graphClientSecret is required for MICROSOFT_GRAPH auth")
		}
	}

	sender, err := NormalizeAddress(in.SenderAddress)
	if err != nil {
		return ServerSettings{}, WithField(err, "senderAddress")
	}
	out.SenderAddress = sender.String()
	out.SenderName = strings.TrimSpace(deref(in.SenderName))
	if err := ValidDisplayName(out.SenderName); err != "" {
		return ServerSettings{}, InvalidInput("senderName", err)
	}
	if in.SMTPUTF8 != nil {
		out.SMTPUTF8 = *in.SMTPUTF8
	}
	return out, nil
}

func keepSecret(given *Secret, previous *ServerSettings, auth ServerAuth, stored func(*ServerSettings) Secret) Secret {
	if given != nil && *given != "" {
		return *given
	}
	if previous != nil && previous.Auth == auth {
		return stored(previous)
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
