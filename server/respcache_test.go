package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

// answer is one raw HTTP answer of /graphql.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func postRaw(t *testing.T, url, token string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del("X-Correlation-Id")
	return answer{status: resp.StatusCode, header: h, body: raw}
}

func optionsBody(userID string) []byte {
	b, _ := json.Marshal(map[string]any{"query": optionsQuery, "variables": map[string]any{"u": userID}})
	return b
}

// optionsTenant seeds a tenant of 3 employees and 3 open mailboxes (5
// sender options each) and issues a token for each user.
func optionsTenant(t *testing.T, in *servertest.Instance) (seed.Tenant, []string) {
	t.Helper()
	tn, err := seed.Benchmark(t.Context(), in.Server.App, seed.Sizes{Users: 3, Mailboxes: 3}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	head, err := in.Server.Store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := in.Server.Runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, u := range tn.Users {
		var out struct {
			IssueAPIToken string `json:"issueApiToken"`
		}
		in.MustDo(t, in.Admin, `mutation($u:ID!){ issueApiToken(userId:$u, name:"t") }`, map[string]any{"u": u}, &out)
		tokens = append(tokens, out.IssueAPIToken)
	}
	return tn, tokens
}

// The answer the response cache keeps is the computed one byte for byte,
// with the same status and headers (R13), and a change of any kind — a
// mailbox renamed, a grant that restricts a mailbox (R11), a user blocked
// (R20) — is in the very next answer.
func TestCachedOptionsEqualAndFollowChangesR11R13R20(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		in := servertest.Start(t, db)
		tn, tokens := optionsTenant(t, in)
		u0, body := tn.Users[0], optionsBody(tn.Users[0])
		computed := postRaw(t, in.URL, tokens[0], body)
		if computed.status != http.StatusOK || !bytes.Contains(computed.body, []byte("box1@bench.example")) {
			t.Fatalf("first answer: got %d %s, want the options with box1", computed.status, computed.body)
		}
		for range 3 {
			kept := postRaw(t, in.URL, tokens[0], body)
			if kept.status != computed.status || !bytes.Equal(kept.body, computed.body) {
				t.Fatalf("repeated answer: got %d %s, want %d %s", kept.status, kept.body, computed.status, computed.body)
			}
			if got, want := jsonOf(kept.header), jsonOf(computed.header); got != want {
				t.Fatalf("repeated headers: got %s, want %s", got, want)
			}
		}

		in.MustDo(t, in.Admin, `mutation($m:ID!){ updateMailbox(id:$m, displayName:"Renamed Box") { id } }`, map[string]any{"m": tn.Mailboxes[1]}, nil)
		if got := postRaw(t, in.URL, tokens[0], body); !bytes.Contains(got.body, []byte("Renamed Box")) {
			t.Fatalf("after a rename: got %s, want the new name", got.body)
		}
		in.MustDo(t, in.Admin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u) { id } }`, map[string]any{"m": tn.Mailboxes[2], "u": tn.Users[1]}, nil)
		if got := postRaw(t, in.URL, tokens[0], body); bytes.Contains(got.body, []byte("box2@bench.example")) || got.status != http.StatusOK {
			t.Fatalf("after a grant to another user (R11): got %s, want box2 gone", got.body)
		}
		// The admin's view of the same user is its own entry, and sees the block (R20).
		postRaw(t, in.URL, in.Admin, body)
		in.MustDo(t, in.Admin, `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:true) { id } }`, map[string]any{"u": u0}, nil)
		if got := postRaw(t, in.URL, in.Admin, body); !bytes.Contains(got.body, []byte(`"senderOptions":[]`)) {
			t.Fatalf("after blocking the user (R20): got %s, want no options", got.body)
		}
	})
}

// A token revoked (R21) or whose user is blocked (R20) is refused at once,
// though its answer is kept; another principal sending the very same
// request gets its own answer — here FORBIDDEN (R19) — never the kept one.
func TestCachedOptionsTokenCheckedEveryTimeR19R20R21(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		in := servertest.Start(t, db)
		tn, tokens := optionsTenant(t, in)
		body := optionsBody(tn.Users[0])
		for range 2 {
			if got := postRaw(t, in.URL, tokens[0], body); got.status != http.StatusOK || !bytes.Contains(got.body, []byte("box0@bench.example")) {
				t.Fatalf("own options: got %d %s", got.status, got.body)
			}
		}
		other := postRaw(t, in.URL, tokens[1], body)
		if !bytes.Contains(other.body, []byte(`"FORBIDDEN"`)) {
			t.Fatalf("another employee asking the same (R19): got %d %s, want FORBIDDEN", other.status, other.body)
		}

		id := strings.Split(tokens[0], "_")[1]
		in.MustDo(t, in.Admin, `mutation($t:ID!){ revokeApiToken(tokenId:$t) }`, map[string]any{"t": id}, nil)
		if got := postRaw(t, in.URL, tokens[0], body); got.status != http.StatusUnauthorized || !bytes.Contains(got.body, []byte("UNAUTHENTICATED")) {
			t.Fatalf("revoked token (R21): got %d %s, want 401 UNAUTHENTICATED", got.status, got.body)
		}

		body2 := optionsBody(tn.Users[2])
		postRaw(t, in.URL, tokens[2], body2)
		in.MustDo(t, in.Admin, `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:true) { id } }`, map[string]any{"u": tn.Users[2]}, nil)
		if got := postRaw(t, in.URL, tokens[2], body2); got.status != http.StatusUnauthorized {
			t.Fatalf("blocked user's token (R20): got %d %s, want 401", got.status, got.body)
		}
	})
}

// A change made through another server on the same PostgreSQL database
// (another process: its own Store, told by NOTIFY) reaches the kept answer
// as it reaches the reader's option cache: once the notification arrives
// (R13). SQLite has no notifications; there one process serves.
func TestCachedOptionsChangeInOtherProcessR13(t *testing.T) {
	db := dbtest.Postgres(t)
	a := servertest.Start(t, db)
	tn, tokens := optionsTenant(t, a)
	b := servertest.Start(t, db)
	body := optionsBody(tn.Users[0])
	for range 2 {
		if got := postRaw(t, a.URL, tokens[0], body); !bytes.Contains(got.body, []byte("Mailbox 0001")) {
			t.Fatalf("before: got %s", got.body)
		}
	}
	b.MustDo(t, b.Admin, `mutation($m:ID!){ updateMailbox(id:$m, displayName:"Renamed Elsewhere") { id } }`, map[string]any{"m": tn.Mailboxes[1]}, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := postRaw(t, a.URL, tokens[0], body)
		if bytes.Contains(got.body, []byte("Renamed Elsewhere")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after a rename through another server: got %s, want the new name", got.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
