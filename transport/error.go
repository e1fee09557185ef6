package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
)

// ErrHostRefused is the cause of the *Error returned when a connection to a
// loopback, private, link-local, unspecified or CGNAT address is refused (R24).
var ErrHostRefused = errors.New("outbound host refused")

// Error is a failed delivery attempt, classified for the saga (R23):
// Temporary failures (SMTP 4xx, timeouts, refused or reset connections,
// DNS failures, HTTP 429/5xx) are worth retrying; the others (SMTP 5xx,
// authentication failures, HTTP 4xx, R24 refusals, invalid messages) end
// the message. Code is the SMTP reply or HTTP status code, 0 when there was
// none. Reason never contains a secret.
type Error struct {
	Temporary bool
	Code      int
	Reason    string
	cause     error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s delivery failure (%d): %s", kind, e.Code, e.Reason)
	}
	return fmt.Sprintf("%s delivery failure: %s", kind, e.Reason)
}

// Unwrap returns the underlying cause (for errors.Is with
// context.DeadlineExceeded or ErrHostRefused), when it carries no secret.
func (e *Error) Unwrap() error { return e.cause }

func permanent(code int, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}

func temporary(code int, reason string) *Error {
	return &Error{Temporary: true, Code: code, Reason: reason}
}

// classify turns an error from a connection or an SMTP exchange into an
// *Error (R23). what names the step ("connect", "MAIL FROM", …).
func classify(what string, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return smtpReply(what, pe)
	}
	reason := what + ": " + err.Error()
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unkCA   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unkCA), errors.As(err, &hostErr), errors.As(err, &invErr):
		// A certificate the client does not trust is a configuration problem.
		return &Error{Reason: reason, cause: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, context.Canceled):
		return &Error{Temporary: true, Reason: reason, cause: err}
	case errors.As(err, &dnsErr):
		return &Error{Temporary: true, Reason: reason, cause: err}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return &Error{Temporary: true, Reason: reason, cause: err}
	case errors.As(err, &netErr):
		return &Error{Temporary: true, Reason: reason, cause: err}
	}
	return &Error{Reason: reason, cause: err}
}

// smtpReply classifies an SMTP reply: 4xx temporary, everything else permanent.
func smtpReply(what string, pe *textproto.Error) *Error {
	return &Error{
		Temporary: pe.Code >= 400 && pe.Code < 500,
		Code:      pe.Code,
		Reason:    fmt.Sprintf("%s: server replied %d %s", what, pe.Code, pe.Msg),
	}
}

// redact makes sure no secret appears in err: a Reason containing one has
// it replaced, and a cause whose text contains one is dropped.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var te *Error
	if !errors.As(err, &te) {
		te = &Error{Reason: err.Error(), cause: err}
	}
	out := *te
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(out.Reason, s) {
			out.Reason = strings.ReplaceAll(out.Reason, s, "[redacted]")
		}
		if out.cause != nil && strings.Contains(out.cause.Error(), s) {
			out.cause = nil
		}
	}
	return &out
}
