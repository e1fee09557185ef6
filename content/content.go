// Package content is the content store (R25): it alone reads and writes
// message_contents. A message's content lives there, not in events: it is
// encrypted with a fresh AES-256-GCM key, and that key is stored sealed by
// the key ring. Erasing the sealed key (purge or retention) makes the
// content unrecoverable; the events keep sizes and hashes only.
//
// Writes take a bun.IDB so they run in the transaction that appends the
// message's events (queue, purge); reads run on the store's own handle.
package content

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
	"github.com/absender/absender/keyring"
)

// ErrPurged says a message's content was erased (R25).
var ErrPurged = errors.New("content: message content was purged")

// ErrUndecryptable says stored ciphertext does not decrypt with the key
// ring (a key was removed from ABSENDER_SECRET_KEY, or the data was
// altered): retrying will not help.
var ErrUndecryptable = errors.New("content: cannot be decrypted with the key ring")

// Store reads and writes message contents.
type Store struct {
	db   bun.IDB
	ring *keyring.Ring
}

// New returns a content store that reads through db and seals with ring.
func New(db bun.IDB, ring *keyring.Ring) (*Store, error) {
	var errs []error
	if db == nil {
		errs = append(errs, errors.New("content: a database is required"))
	}
	if ring == nil {
		errs = append(errs, errors.New("content: a key ring is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Store{db: db, ring: ring}, nil
}

// Sealed is a message's content encrypted for storage.
type Sealed struct {
	MessageID string
	// Key is the per-message content key, sealed by the key ring.
	Key string
	// Ciphertext is the encrypted content, nonce first.
	Ciphertext []byte
}

func contentAAD(messageID string) []byte { return []byte("absender/message-" + messageID + "/content") }

func keyAAD(messageID string) []byte { return []byte("absender/message-" + messageID + "/contentKey") }

// Seal encrypts content with a new per-message key and returns the sealed
// form and the plain key, for the keyed content hashes of the events
// (message.Describe). It does not touch the database.
func (s *Store) Seal(messageID string, c message.Content) (Sealed, []byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return Sealed{}, nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return Sealed{}, nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return Sealed{}, nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, nil, err
	}
	sealedKey, err := s.ring.Encrypt(key, keyAAD(messageID))
	if err != nil {
		return Sealed{}, nil, err
	}
	return Sealed{MessageID: messageID, Key: sealedKey, Ciphertext: aead.Seal(nonce, nonce, plain, contentAAD(messageID))}, key, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Insert stores a message's sealed content through db, the transaction
// that queues the message.
func Insert(ctx context.Context, db bun.IDB, c Sealed, retainUntil time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO message_contents (message_id, sealed_key, content, retain_until) VALUES (?, ?, ?, ?)`,
		c.MessageID, c.Key, c.Ciphertext, retainUntil.UnixMilli())
	return err
}

// Erase drops key and ciphertext of a message through db, the transaction
// that records the purge.
func Erase(ctx context.Context, db bun.IDB, messageID string) error {
	_, err := db.ExecContext(ctx, `UPDATE message_contents SET sealed_key = NULL, content = NULL WHERE message_id = ?`, messageID)
	return err
}

// Open decrypts a message's content, in memory, for sending.
func (s *Store) Open(ctx context.Context, messageID string) (message.Content, error) {
	var sealed sql.NullString
	var ct []byte
	err := s.db.QueryRowContext(ctx, `SELECT sealed_key, content FROM message_contents WHERE message_id = ?`, messageID).Scan(&sealed, &ct)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sealed.Valid) {
		return message.Content{}, ErrPurged
	}
	if err != nil {
		return message.Content{}, fmt.Errorf("content: read %s: %w", messageID, err)
	}
	key, err := s.ring.Decrypt(sealed.String, keyAAD(messageID))
	if err != nil {
		return message.Content{}, fmt.Errorf("content: key of %s: %w (%v)", messageID, ErrUndecryptable, err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return message.Content{}, err
	}
	if len(ct) < aead.NonceSize() {
		return message.Content{}, fmt.Errorf("content: %s is truncated: %w", messageID, ErrUndecryptable)
	}
	plain, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], contentAAD(messageID))
	if err != nil {
		return message.Content{}, fmt.Errorf("content: open %s: %w", messageID, ErrUndecryptable)
	}
	var c message.Content
	if err := json.Unmarshal(plain, &c); err != nil {
		return message.Content{}, err
	}
	return c, nil
}

// Expired is a message whose content is held past its retention.
type Expired struct {
	MessageID   string `bun:"message_id"`
	RetainUntil int64  `bun:"retain_until"` // Unix milliseconds
}

// Expired lists up to limit messages whose content is still held and
// whose retention ended at or before now, oldest retention first, after
// the cursor (the last entry of the previous page; zero for the first).
// Whether the message is finished is not this store's to know: the
// caller asks the messages read model.
func (s *Store) Expired(ctx context.Context, now time.Time, after Expired, limit int) ([]Expired, error) {
	var rows []Expired
	err := s.db.NewRaw(`SELECT message_id, retain_until FROM message_contents
		WHERE sealed_key IS NOT NULL AND retain_until <= ? AND (retain_until > ? OR (retain_until = ? AND message_id > ?))
		ORDER BY retain_until, message_id LIMIT ?`,
		now.UnixMilli(), after.RetainUntil, after.RetainUntil, after.MessageID, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("content: expired: %w", err)
	}
	return rows, nil
}
