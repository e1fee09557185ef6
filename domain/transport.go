package domain

// TransportKind says what sends a tenant's or an address's mail (SPEC §4
// enum TransportKind). The zero value is invalid; NONE means sending is
// unavailable (R1, R2).
type TransportKind struct{ s string }

// The transport kinds.
var (
	TransportSystemServer = TransportKind{"SYSTEM_SERVER"}
	TransportTenantServer = TransportKind{"TENANT_SERVER"}
	TransportMailbox      = TransportKind{"MAILBOX"}
	TransportNone         = TransportKind{"NONE"}
)

func (t TransportKind) String() string { return t.s }

// MarshalText encodes the enum name.
func (t TransportKind) MarshalText() ([]byte, error) { return []byte(t.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero value.
func (t *TransportKind) UnmarshalText(b []byte) error {
	for _, k := range []TransportKind{{}, TransportSystemServer, TransportTenantServer, TransportMailbox, TransportNone} {
		if k.s == string(b) {
			*t = k
			return nil
		}
	}
	return InvalidInput("transport", "unknown transport kind "+string(b))
}
