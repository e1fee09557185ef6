// Package domain is the shared kernel of Absender's pure domain layer: the
// event interface, typed errors carrying the SPEC §4 codes, roles and actors,
// e-mail addresses, mail server settings (R4), transport kinds, and the one
// check of every text a command takes (R22, R34: CheckLine, CheckBody,
// CheckHeaderText, NewName, NewSubject in text.go).
//
// Each aggregate lives in its own subpackage (system, tenant, login, user,
// group, mailbox, token). The packages under domain import only the standard
// library and golang.org/x; they do no I/O and read no clock or randomness:
// time, ids and already-encrypted secrets arrive as command fields. State is
// rebuilt only by applying events; a command returns new events or a typed
// error, and a refused command returns no events.
//
// This root package never imports its subpackages; domain/catalog lists every
// event type for the event store.
package domain

// Event is a domain event: a plain struct with JSON tags whose EventName is
// a constant, versioned name such as "MailboxAdded.v1". A published event
// never changes; a new shape gets a new version.
type Event interface {
	EventName() string
}
