package app

import (
	"context"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain/message"
)

// Message content (R25) lives in the content store (package content),
// which alone reads and writes it.

// ErrContentPurged says a message's content was erased (R25).
var ErrContentPurged = content.ErrPurged

// ErrUndecryptable says stored ciphertext does not decrypt with the key
// ring (a key was removed from ABSENDER_SECRET_KEY, or the data was
// altered): retrying will not help.
var ErrUndecryptable = content.ErrUndecryptable

// MessageContent decrypts a message's content, in memory, for sending.
func (s *Service) MessageContent(ctx context.Context, messageID string) (message.Content, error) {
	return s.content.Open(ctx, messageID)
}
