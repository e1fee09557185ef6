package server_test

import (
	"slices"
	"testing"

	"github.com/absender/absender/server"
)

// TestParseCORSOrigins: --cors-origins takes scheme://host[:port] origins
// (canonical lower case) or * alone, and names what is wrong otherwise
// (issue 11).
func TestParseCORSOrigins(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{" https://Console.Example.com , http://localhost:5173 ", []string{"https://console.example.com", "http://localhost:5173"}, true},
		{"https://console.example.com/", []string{"https://console.example.com"}, true},
		// A browser's Origin never names the scheme's default port, so a
		// listed one would match nothing (review of issue 11).
		{"https://console.example.com:443,http://a.example:80,http://b.example:443", []string{"https://console.example.com", "http://a.example", "http://b.example:443"}, true},
		{"https://[2001:db8::1]:443", []string{"https://[2001:db8::1]"}, true},
		{"*", []string{"*"}, true},
		{"*, https://a.example.com", nil, false},
		{"https://a.example.com/app", nil, false},
		{"console.example.com", nil, false},
		{"ftp://a.example.com", nil, false},
		{"https://user@a.example.com", nil, false},
		{"https://a.example.com?x=1", nil, false},
		{"https://*.example.com", nil, false},
	} {
		got, err := server.ParseCORSOrigins(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseCORSOrigins(%q): got error %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !slices.Equal(got, tc.want) {
			t.Errorf("ParseCORSOrigins(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
