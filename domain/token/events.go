package token

import (
	"time"

	"github.com/absender/absender/domain"
)

// ApiTokenIssued: a token was issued; only the hash of its secret is kept (R21).
type ApiTokenIssued struct {
	TokenID    string      `json:"tokenId"`
	UserID     string      `json:"userId,omitempty"`
	TenantID   string      `json:"tenantId,omitempty"`
	Role       domain.Role `json:"role,omitzero"`
	Name       string      `json:"name"`
	SecretHash string      `json:"secretHash"`
	IssuedAt   time.Time   `json:"issuedAt"`
}

// ApiTokenRevoked: the token was revoked.
type ApiTokenRevoked struct {
	TokenID  string `json:"tokenId"`
	UserID   string `json:"userId,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
}

func (ApiTokenIssued) EventName() string  { return "ApiTokenIssued.v1" }
func (ApiTokenRevoked) EventName() string { return "ApiTokenRevoked.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{ApiTokenIssued{}, ApiTokenRevoked{}}
}
