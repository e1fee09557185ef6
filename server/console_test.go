package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// SPEC §4, §6: the console at / beside the API: /graphql still answers
// (POST and GET), and GET / serves HTML with the console's policy — the
// console's page when it was built into the binary, the page that says
// how to build it otherwise.
func TestConsoleBesideTheAPI(t *testing.T) {
	in := servertest.Start(t, dbtest.SQLite(t))

	var got struct {
		Principal struct{ Role string } `json:"principal"`
	}
	in.MustDo(t, in.Admin, `{ principal { role } }`, nil, &got)
	if got.Principal.Role != "SYSTEM_ADMIN" {
		t.Errorf("POST /graphql principal: got %q, want SYSTEM_ADMIN", got.Principal.Role)
	}

	req, err := http.NewRequest(http.MethodGet, in.URL+"/graphql?query="+url.QueryEscape(`{ principal { role } }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+in.Admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"SYSTEM_ADMIN"`) {
		t.Errorf("GET /graphql: got %d %s, want 200 with the principal", resp.StatusCode, b)
	}

	for _, path := range []string{"/", "/audit", "/graphiql"} {
		resp, err := http.Get(in.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s: got %d, want 200 (console built) or 503 (not built)", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(strings.ToLower(string(b)), "<!doctype html>") {
			t.Errorf("GET %s: got %q %.60q, want an HTML page", path, ct, b)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want only the own origin", path, csp)
		}
	}

	// /graphql is the API's, not the console's: an unauthenticated GET
	// gets a GraphQL answer, not a page.
	resp, err = http.Get(in.URL + "/graphql?query=" + url.QueryEscape(`{ principal { role } }`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "UNAUTHENTICATED") {
		t.Errorf("GET /graphql without a token: got %d %s, want UNAUTHENTICATED", resp.StatusCode, b)
	}
}
