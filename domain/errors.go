package domain

import "fmt"

// Code is an error code of the GraphQL contract (SPEC §4, extensions.code).
type Code string

// The codes of SPEC §4.
const (
	CodeUnauthenticated     Code = "UNAUTHENTICATED"
	CodeForbidden           Code = "FORBIDDEN"
	CodeNotFound            Code = "NOT_FOUND"
	CodeInvalidInput        Code = "INVALID_INPUT"
	CodeConflict            Code = "CONFLICT"
	CodeAlreadyExists       Code = "ALREADY_EXISTS"
	CodeQuotaExceeded       Code = "QUOTA_EXCEEDED"
	CodeFromNotAllowed      Code = "FROM_NOT_ALLOWED"
	CodeReplyToNotAllowed   Code = "REPLY_TO_NOT_ALLOWED"
	CodeSendingDisabled     Code = "SENDING_DISABLED"
	CodeAttachmentForbidden Code = "ATTACHMENT_FORBIDDEN"
	CodeRateLimited         Code = "RATE_LIMITED"
	CodeInternal            Code = "INTERNAL"
)

// Error is the one error type of the domain. Field names the offending input
// field (GraphQL argument or input field name) for INVALID_INPUT and, where
// useful, for ALREADY_EXISTS; Message is a human-readable reason.
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	switch {
	case e.Field != "" && e.Message != "":
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	case e.Message != "":
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	case e.Field != "":
		return fmt.Sprintf("%s: %s", e.Code, e.Field)
	}
	return string(e.Code)
}

// Is reports whether target is a *Error with the same Code. A target with a
// Field matches only errors naming that field; so errors.Is(err,
// ErrQuotaExceeded) matches every QUOTA_EXCEEDED error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code != e.Code {
		return false
	}
	return t.Field == "" || t.Field == e.Field
}

// Sentinels for errors.Is, one per code.
var (
	ErrUnauthenticated     = &Error{Code: CodeUnauthenticated}
	ErrForbidden           = &Error{Code: CodeForbidden}
	ErrNotFound            = &Error{Code: CodeNotFound}
	ErrInvalidInput        = &Error{Code: CodeInvalidInput}
	ErrConflict            = &Error{Code: CodeConflict}
	ErrAlreadyExists       = &Error{Code: CodeAlreadyExists}
	ErrQuotaExceeded       = &Error{Code: CodeQuotaExceeded}
	ErrFromNotAllowed      = &Error{Code: CodeFromNotAllowed}
	ErrReplyToNotAllowed   = &Error{Code: CodeReplyToNotAllowed}
	ErrSendingDisabled     = &Error{Code: CodeSendingDisabled}
	ErrAttachmentForbidden = &Error{Code: CodeAttachmentForbidden}
	ErrRateLimited         = &Error{Code: CodeRateLimited}
	ErrInternal            = &Error{Code: CodeInternal}
)

// InvalidInput is an INVALID_INPUT error naming the field.
func InvalidInput(field, reason string) *Error {
	return &Error{Code: CodeInvalidInput, Field: field, Message: reason}
}

// NotFound is a NOT_FOUND error; what names the missing object ("mailbox").
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// Forbidden is a FORBIDDEN error.
func Forbidden(reason string) *Error {
	return &Error{Code: CodeForbidden, Message: reason}
}

// AlreadyExists is an ALREADY_EXISTS error naming the field that clashes.
func AlreadyExists(field, reason string) *Error {
	return &Error{Code: CodeAlreadyExists, Field: field, Message: reason}
}

// QuotaExceeded is a QUOTA_EXCEEDED error.
func QuotaExceeded(reason string) *Error {
	return &Error{Code: CodeQuotaExceeded, Message: reason}
}

// Conflict is a CONFLICT error.
func Conflict(reason string) *Error {
	return &Error{Code: CodeConflict, Message: reason}
}

// Unauthenticated is an UNAUTHENTICATED error.
func Unauthenticated(reason string) *Error {
	return &Error{Code: CodeUnauthenticated, Message: reason}
}
