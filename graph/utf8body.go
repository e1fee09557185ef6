package graph

import (
	"errors"
	"io"
	"net/http"

	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// errBodyNotUTF8 is what reading a request body that is not valid UTF-8
// gives; gqlgen answers it as a request error (INVALID_INPUT), naming
// nothing of the body.
var errBodyNotUTF8 = errors.New("the request body is not valid UTF-8")

// requireUTF8 refuses a request body that is not valid UTF-8 (R34, RFC
// 8259 §8.1). encoding/json would replace invalid bytes with U+FFFD, so a
// client's broken text would be stored as something it never sent. The
// body is checked as it streams (x/text's UTF8Validator), so nothing more
// is buffered.
func requireUTF8(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = utf8Body{Reader: transform.NewReader(r.Body, encoding.UTF8Validator), Closer: r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// utf8Body reads through the validator and closes the original body.
type utf8Body struct {
	io.Reader
	io.Closer
}

func (u utf8Body) Read(p []byte) (int, error) {
	n, err := u.Reader.Read(p)
	if errors.Is(err, encoding.ErrInvalidUTF8) {
		err = errBodyNotUTF8
	}
	return n, err
}
