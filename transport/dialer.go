package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// cgnat is the shared address space of RFC 6598 (carrier-grade NAT).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Dialer opens outbound TCP connections for SMTP and Graph. Unless
// AllowPrivateHosts is set, it refuses loopback, private (RFC 1918,
// fc00::/7), link-local, unspecified and CGNAT addresses (R24). The check
// runs at connect time on the resolved address, so a host name that
// resolves to 127.0.0.1 is refused too, before any packet is sent.
type Dialer struct {
	AllowPrivateHosts bool
	Timeout           time.Duration // connect timeout; 0 means none beyond ctx
	Resolver          *net.Resolver // nil: the default resolver
}

// DialContext connects to address ("host:port") on network "tcp", "tcp4"
// or "tcp6". A refusal is a permanent *Error wrapping ErrHostRefused.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.Timeout, Resolver: d.Resolver, Control: d.control}
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, err
	}
	return conn, nil
}

// control is R24: it vets every resolved address before connect(2).
func (d *Dialer) control(network, address string, _ syscall.RawConn) error {
	if d.AllowPrivateHosts {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refused(address, "unparsable")
	}
	if kind := privateKind(ap.Addr()); kind != "" {
		return refused(address, kind)
	}
	return nil
}

func refused(address, kind string) *Error {
	return &Error{
		Reason: fmt.Sprintf("R24: connection to %s refused: %s address (allow with --allow-private-hosts)", address, kind),
		cause:  ErrHostRefused,
	}
}

// privateKind names why a is not a public address, or returns "".
func privateKind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "link-local"
	case cgnat.Contains(a):
		return "CGNAT"
	case a.Is4() && a.As4()[0] == 0:
		return "unspecified" // 0.0.0.0/8, "this network"
	}
	return ""
}
