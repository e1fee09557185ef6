// Package srs is the Sender Rewriting Scheme of R28: mail that an account
// forwards to another domain leaves with an SRS0 envelope sender in the
// forwarding account's domain, so SPF passes at the destination, and a
// bounce to that address can be reversed to the original sender.
//
// The format is the one of libsrs2 and postsrsd (Shevek's "guarded"
// scheme), so addresses made here reverse there and the other way round
// with the same secret:
//
//	SRS0=HHHH=TT=orig.example=user@forwarder.example
//	SRS1=HHHH=first.example==HHHH=TT=orig.example=user@forwarder.example
//
// HHHH is the first four characters of the standard base64 of
// HMAC-SHA1(secret, lower-case timestamp‖host‖user); TT is the day number
// modulo 1024 in base32. A hash is compared case-insensitively (mail
// systems may change the case of a local part), a timestamp is valid for
// MaxAge days.
package srs

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxAge is how long an SRS address can be reversed (R28: 21 days).
const MaxAge = 21

const (
	hashLength   = 4
	timeSlots    = 1024 // two base32 characters
	dayLength    = 24 * 60 * 60
	base32Chars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	maxInput     = 1000 // octets of an address handed to Forward or Reverse (R34)
	minKeyLength = 16   // octets of a secret
)

// Errors of Reverse (and Forward for its input).
var (
	// ErrNotSRS: the address is not an SRS0 or SRS1 address.
	ErrNotSRS = errors.New("srs: not an SRS address")
	// ErrMalformed: the address starts like an SRS address but its parts are wrong.
	ErrMalformed = errors.New("srs: malformed SRS address")
	// ErrHash: no key of the ring made this hash (tampered or foreign).
	ErrHash = errors.New("srs: hash does not verify")
	// ErrExpired: the timestamp is older than MaxAge days (or in the future).
	ErrExpired = errors.New("srs: timestamp expired")
	// ErrInvalidAddress: the address to rewrite is not local@domain or is too long or has control characters.
	ErrInvalidAddress = errors.New("srs: invalid address")
)

// Rewriter signs with the newest key of its ring and verifies with every
// key. Build it with New; it is safe for concurrent use.
type Rewriter struct {
	keys [][]byte // newest first
	now  func() time.Time
}

// Option configures a Rewriter.
type Option func(*Rewriter)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(r *Rewriter) { r.now = now } }

// New returns a Rewriter over keys, newest first: keys[0] signs, every key
// verifies (rotation: add a new key in front, drop the oldest after
// MaxAge days). Each key must have at least 16 octets.
func New(keys [][]byte, opts ...Option) (*Rewriter, error) {
	if len(keys) == 0 {
		return nil, errors.New("srs: the key ring is empty")
	}
	r := &Rewriter{now: time.Now}
	for i, k := range keys {
		if len(k) < minKeyLength {
			return nil, fmt.Errorf("srs: key %d has %d octets, want at least %d", i, len(k), minKeyLength)
		}
		r.keys = append(r.keys, append([]byte(nil), k...))
	}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Forward rewrites sender for mail forwarded by an account of domain
// aliasDomain (R28). A sender already in aliasDomain, and the empty
// (null) sender of a bounce, are returned unchanged. An SRS0 sender of
// another forwarder becomes SRS1; an SRS1 sender keeps its first hop.
func (r *Rewriter) Forward(sender, aliasDomain string) (string, error) {
	if sender == "" {
		return "", nil
	}
	user, host, err := split(sender)
	if err != nil {
		return "", err
	}
	if err := checkDomain(aliasDomain); err != nil {
		return "", err
	}
	if strings.EqualFold(host, aliasDomain) {
		return sender, nil
	}
	if tag, rest, ok := srsTag(user); ok {
		switch tag {
		case "SRS0":
			// rest keeps its separator: SRS1=HHHH=host==HHHH=TT=orig=user
			return r.srs1(host, rest, aliasDomain), nil
		case "SRS1":
			// SRS1=HHHH=first==rest: re-sign the first hop and rest.
			parts := strings.SplitN(rest[1:], "=", 3)
			if len(parts) == 3 && parts[1] != "" {
				return r.srs1(parts[1], parts[2], aliasDomain), nil
			}
		}
	}
	stamp := timestamp(r.now())
	hash := r.hash(r.keys[0], stamp, host, user)
	return "SRS0=" + hash + "=" + stamp + "=" + host + "=" + user + "@" + aliasDomain, nil
}

func (r *Rewriter) srs1(firstHost, rest, aliasDomain string) string {
	hash := r.hash(r.keys[0], firstHost, rest)
	return "SRS1=" + hash + "=" + firstHost + "=" + rest + "@" + aliasDomain
}

// Reverse returns the address an SRS address stands for: the original
// sender of an SRS0 address, the SRS0 address at the first forwarder of an
// SRS1 address. The domain after "@" is not checked (the caller knows
// which domains are its own). Errors: ErrNotSRS, ErrMalformed, ErrHash,
// ErrExpired, ErrInvalidAddress.
func (r *Rewriter) Reverse(address string) (string, error) {
	user, _, err := split(address)
	if err != nil {
		return "", err
	}
	tag, rest, ok := srsTag(user)
	if !ok {
		return "", ErrNotSRS
	}
	switch tag {
	case "SRS0":
		// rest: =HHHH=TT=host=user (user may contain "=")
		parts := strings.SplitN(rest[1:], "=", 4)
		if len(parts) != 4 || parts[0] == "" || len(parts[1]) != 2 || parts[2] == "" || parts[3] == "" {
			return "", ErrMalformed
		}
		hash, stamp, host, orig := parts[0], parts[1], parts[2], parts[3]
		if !r.verify(hash, stamp, host, orig) {
			return "", ErrHash
		}
		if err := r.checkStamp(stamp); err != nil {
			return "", err
		}
		return orig + "@" + host, nil
	default: // SRS1
		// rest: =HHHH=first==HHHH=TT=host=user; the part after first keeps its separator.
		parts := strings.SplitN(rest[1:], "=", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || len(parts[2]) < 2 {
			return "", ErrMalformed
		}
		hash, first, srs0 := parts[0], parts[1], parts[2]
		if !r.verify(hash, first, srs0) {
			return "", ErrHash
		}
		return "SRS0" + srs0 + "@" + first, nil
	}
}

// IsSRS reports whether address looks like an SRS0 or SRS1 address.
func IsSRS(address string) bool {
	user, _, err := split(address)
	if err != nil {
		return false
	}
	_, _, ok := srsTag(user)
	return ok
}

// srsTag recognises "SRS0" or "SRS1" (any case) followed by one of the
// separators libsrs2 accepts ("=", "+", "-"); rest starts with "=" (the
// separator normalised).
func srsTag(user string) (tag, rest string, ok bool) {
	if len(user) < 5 {
		return "", "", false
	}
	tag = strings.ToUpper(user[:4])
	if tag != "SRS0" && tag != "SRS1" || !strings.ContainsRune("=+-", rune(user[4])) {
		return "", "", false
	}
	return tag, "=" + user[5:], true
}

// hash is the first four characters of the standard base64 of
// HMAC-SHA1(key, lower-case parts concatenated), as libsrs2 computes it.
func (r *Rewriter) hash(key []byte, parts ...string) string {
	mac := hmac.New(sha1.New, key)
	for _, p := range parts {
		mac.Write([]byte(asciiLower(p)))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))[:hashLength]
}

// verify reports whether any key of the ring made hash, compared without
// regard to case and in constant time per key.
func (r *Rewriter) verify(hash string, parts ...string) bool {
	if len(hash) != hashLength {
		return false
	}
	got := []byte(asciiLower(hash))
	ok := false
	for _, k := range r.keys {
		want := []byte(asciiLower(r.hash(k, parts...)))
		if subtle.ConstantTimeCompare(got, want) == 1 {
			ok = true
		}
	}
	return ok
}

// timestamp is the day number modulo 1024 in two base32 characters.
func timestamp(now time.Time) string {
	day := (now.Unix() / dayLength) % timeSlots
	return string([]byte{base32Chars[(day>>5)&31], base32Chars[day&31]})
}

// checkStamp refuses a timestamp older than MaxAge days; the day number
// wraps every 1024 days, so a stamp "in the future" counts as very old.
func (r *Rewriter) checkStamp(stamp string) error {
	then := int64(0)
	for _, c := range strings.ToUpper(stamp) {
		i := strings.IndexRune(base32Chars, c)
		if i < 0 {
			return ErrMalformed
		}
		then = then<<5 | int64(i)
	}
	now := (r.now().Unix() / dayLength) % timeSlots
	if now < then {
		now += timeSlots
	}
	if now > then+MaxAge {
		return ErrExpired
	}
	return nil
}

// split checks an address as received (R34: bounded, no control
// characters or spaces) and splits it at the last "@".
func split(address string) (user, host string, err error) {
	if len(address) > maxInput {
		return "", "", fmt.Errorf("%w: longer than %d octets", ErrInvalidAddress, maxInput)
	}
	for i := 0; i < len(address); i++ {
		if c := address[i]; c <= ' ' || c == 0x7f {
			return "", "", fmt.Errorf("%w: control character or space", ErrInvalidAddress)
		}
	}
	at := strings.LastIndexByte(address, '@')
	if at <= 0 || at == len(address)-1 {
		return "", "", fmt.Errorf("%w: want local@domain", ErrInvalidAddress)
	}
	return address[:at], address[at+1:], nil
}

func checkDomain(d string) error {
	if d == "" || len(d) > 253 || strings.ContainsAny(d, "@=") {
		return fmt.Errorf("%w: forwarding domain %q", ErrInvalidAddress, d)
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w: forwarding domain has a control character", ErrInvalidAddress)
		}
	}
	return nil
}

// asciiLower lower-cases A–Z only, as libsrs2's tolower in the C locale.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
