package graph

import (
	"errors"
	"io"
	"net/http"
	"unicode/utf8"
)

// errBodyNotUTF8 is what reading a request body that is not valid UTF-8
// gives; gqlgen answers it as a request error (INVALID_INPUT), naming
// nothing of the body.
var errBodyNotUTF8 = errors.New("the request body is not valid UTF-8")

// requireUTF8 refuses a request body that is not valid UTF-8 (R34, RFC
// 8259 §8.1). encoding/json would replace invalid bytes with U+FFFD, so a
// client's broken text would be stored as something it never sent. The
// body is checked as it streams, so nothing more is buffered.
func requireUTF8(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &utf8Body{ReadCloser: r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// utf8Body checks the UTF-8 of what is read through it; tail holds the
// start of a character split between two reads.
type utf8Body struct {
	io.ReadCloser
	tail []byte
	err  error
}

func (u *utf8Body) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.ReadCloser.Read(p)
	if !u.valid(p[:n]) || (errors.Is(err, io.EOF) && len(u.tail) > 0) {
		u.err = errBodyNotUTF8
		return n, u.err
	}
	return n, err
}

// valid checks b, continuing a character that the last read split.
func (u *utf8Body) valid(b []byte) bool {
	i := 0
	for len(u.tail) > 0 && i < len(b) {
		u.tail = append(u.tail, b[i])
		i++
		if utf8.FullRune(u.tail) {
			if r, size := utf8.DecodeRune(u.tail); r == utf8.RuneError && size <= 1 || size != len(u.tail) {
				return false
			}
			u.tail = u.tail[:0]
		}
	}
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(b[i:]) {
			u.tail = append(u.tail[:0], b[i:]...)
			return true
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}
