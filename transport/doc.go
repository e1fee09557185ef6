// Package transport sends one message through a mail server's settings
// (SPEC R4): SMTP with go-mail, or Microsoft Graph sendMail with the OAuth2
// client-credentials flow. It is the side effect the send saga performs for
// a delivery attempt (STYLE §4); retries, backoff and bookkeeping belong to
// the saga, which reads the outcome from Result or from a typed *Error
// (temporary or permanent, R23).
//
// Outbound connections go through a dialer that refuses loopback, private,
// link-local, unspecified and CGNAT addresses after DNS resolution (R24).
//
// Secrets arrive in plain text in Credentials, for one send only; they are
// never logged, kept, or written into an error.
package transport
