package app

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/domain/message"
)

// Message content (R25) lives in message_contents, not in events: each
// message's content is encrypted with a fresh AES-256-GCM key, and that key
// is stored sealed by the key ring. Erasing the sealed key (purge or
// retention) makes the content unrecoverable; the events keep sizes and
// hashes only.

func contentAAD(messageID string) []byte { return []byte("absender/message-" + messageID + "/content") }

func keyAAD(messageID string) []byte { return []byte("absender/message-" + messageID + "/contentKey") }

// sealContent encrypts content with a new per-message key and returns the
// sealed key, the ciphertext (nonce first) and the plain key, for the
// keyed content hashes of the events (message.Describe).
func (s *Service) sealContent(messageID string, c message.Content) (sealedKey string, ciphertext, key []byte, err error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", nil, nil, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, nil, err
	}
	aead, err := contentAEAD(key)
	if err != nil {
		return "", nil, nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, nil, err
	}
	ciphertext = aead.Seal(nonce, nonce, plain, contentAAD(messageID))
	sealedKey, err = s.ring.Encrypt(key, keyAAD(messageID))
	return sealedKey, ciphertext, key, err
}

func contentAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// insertContent stores a message's sealed content in the transaction that
// queues it.
func insertContent(ctx context.Context, tx bun.Tx, messageID, sealedKey string, ciphertext []byte, retainUntil time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO message_contents (message_id, sealed_key, content, retain_until) VALUES (?, ?, ?, ?)`,
		messageID, sealedKey, ciphertext, retainUntil.UnixMilli())
	return err
}

// ErrContentPurged says a message's content was erased (R25).
var ErrContentPurged = errors.New("app: message content was purged")

// ErrUndecryptable says stored ciphertext does not decrypt with the key
// ring (a key was removed from ABSENDER_SECRET_KEY, or the data was
// altered): retrying will not help.
var ErrUndecryptable = errors.New("app: cannot be decrypted with the key ring")

// MessageContent decrypts a message's content, in memory, for sending.
func (s *Service) MessageContent(ctx context.Context, messageID string) (message.Content, error) {
	var sealed sql.NullString
	var ct []byte
	err := s.store.DB().Read.QueryRowContext(ctx, `SELECT sealed_key, content FROM message_contents WHERE message_id = ?`, messageID).Scan(&sealed, &ct)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sealed.Valid) {
		return message.Content{}, ErrContentPurged
	}
	if err != nil {
		return message.Content{}, fmt.Errorf("app: content of %s: %w", messageID, err)
	}
	key, err := s.ring.Decrypt(sealed.String, keyAAD(messageID))
	if err != nil {
		return message.Content{}, fmt.Errorf("app: content key of %s: %w (%v)", messageID, ErrUndecryptable, err)
	}
	aead, err := contentAEAD(key)
	if err != nil {
		return message.Content{}, err
	}
	if len(ct) < aead.NonceSize() {
		return message.Content{}, fmt.Errorf("app: content of %s is truncated: %w", messageID, ErrUndecryptable)
	}
	plain, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], contentAAD(messageID))
	if err != nil {
		return message.Content{}, fmt.Errorf("app: content of %s: %w", messageID, ErrUndecryptable)
	}
	var c message.Content
	if err := json.Unmarshal(plain, &c); err != nil {
		return message.Content{}, err
	}
	return c, nil
}

// eraseContent drops key and ciphertext in the transaction that records
// the purge.
func eraseContent(ctx context.Context, tx bun.Tx, messageID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE message_contents SET sealed_key = NULL, content = NULL WHERE message_id = ?`, messageID)
	return err
}
