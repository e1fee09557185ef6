package graph

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// TestR34_RequestBodyUTF8: a body is refused exactly when it is not valid
// UTF-8, however the reads split its characters.
func TestR34_RequestBodyUTF8(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"ASCII", `{"query":"{ viewer { id } }"}`, true},
		{"multi-byte", `{"n":"Bücher 山田 😀 \uFFFD"}`, true},
		{"empty", ``, true},
		{"invalid byte", "{\"n\":\"a\xffb\"}", false},
		{"lone continuation byte", "{\"n\":\"a\x80b\"}", false},
		{"overlong NUL", "{\"n\":\"a\xc0\x80b\"}", false},
		{"encoded surrogate", "{\"n\":\"\xed\xa0\x80\"}", false},
		{"truncated at the end", "{\"n\":\"\xe5\xb1", false},
		{"bad continuation", "{\"n\":\"\xe5\x41\x41\"}", false},
	}
	for _, tc := range tests {
		for _, split := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader}, {"halves", iotest.HalfReader}} {
			t.Run(tc.name+"/"+split.name, func(t *testing.T) {
				b := utf8Body{Reader: transform.NewReader(split.wrap(bytes.NewReader([]byte(tc.body))), encoding.UTF8Validator), Closer: io.NopCloser(nil)}
				got, err := io.ReadAll(b)
				if tc.ok && (err != nil || string(got) != tc.body) {
					t.Fatalf("got %q, %v; want the body", got, err)
				}
				if !tc.ok && !errors.Is(err, errBodyNotUTF8) {
					t.Fatalf("got %v, want errBodyNotUTF8", err)
				}
			})
		}
	}
}
