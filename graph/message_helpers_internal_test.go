package graph

import (
	"strings"
	"testing"
)

// TestPlainLastError: what a sender reads of the reasons the saga records
// (SPEC §4 lastError): a category without hosts, addresses or URLs.
func TestPlainLastError(t *testing.T) {
	for _, tc := range []struct{ detail, want string }{
		{"temporary delivery failure: graph token: Post \"https://login.internal.example/t1/oauth2/v2.0/token\": dial tcp 10.0.0.5:443: i/o timeout",
			"temporary failure: connection failed"},
		{"temporary delivery failure: connect to smtp.internal.example:587: dial tcp: lookup smtp.internal.example on 10.0.0.53:53: no such host",
			"temporary failure: connection failed"},
		{"permanent delivery failure (401): graph token: HTTP 401 invalid_client AADSTS7000215 at https://login.internal.example",
			"authentication failed"},
		{"permanent delivery failure (535): SMTP authentication: server replied 535 5.7.8 bad credentials for relay@internal.example",
			"authentication failed"},
		{"permanent delivery failure (403): send mail: HTTP 403 ErrorAccessDenied: mailbox info@internal.example",
			"rejected by the mail server"},
		{"permanent delivery failure: R24: connection to 10.0.0.5:25 refused: private address (allow with --allow-private-hosts)",
			"connection failed"},
		{"permanent delivery failure: connect to smtp.internal.example:465: tls: failed to verify certificate: x509",
			"connection failed"},
		{"interrupted: the outcome of this attempt is unknown", "temporary failure: the attempt was interrupted; it is retried"},
		{"FROM_NOT_ALLOWED: info@internal.example is not one of your sender options", "FROM_NOT_ALLOWED: you may no longer send from this address"},
		{"SENDING_DISABLED: the system server of smtp.internal.example is off", "SENDING_DISABLED: no mail server may send this message now"},
		{"something nobody foresaw at 10.0.0.5", "the message could not be sent"},
	} {
		got := plainLastError(tc.detail)
		if got != tc.want {
			t.Errorf("plainLastError(%q): got %q, want %q", tc.detail, got, tc.want)
		}
		for _, leak := range []string{"internal.example", "10.0.0.", "https://"} {
			if strings.Contains(got, leak) {
				t.Errorf("plainLastError(%q) = %q: shows %q", tc.detail, got, leak)
			}
		}
	}
}
