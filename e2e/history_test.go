package e2e_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// History over the API: senderOptions(at:) and mailboxAccess(at:) answer
// as things were then, also for a user deleted since (R11, R18).
func TestHistory_OptionsAndAccessAt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		in := servertest.Start(t, db)
		var setup struct {
			ConfigureSystemServer struct{ Configured bool } `json:"configureSystemServer"`
		}
		in.MustDo(t, in.Admin, `mutation { configureSystemServer(input: {host: "smtp.example.com", encryption: STARTTLS, auth: NONE, senderAddress: "noreply@example.com"}) { configured } }`, nil, &setup)
		var tn struct{ CreateTenant struct{ ID string } }
		in.MustDo(t, in.Admin, `mutation { createTenant(name: "celanio GmbH") { id } }`, nil, &tn)
		var mb struct{ AddMailbox struct{ ID string } }
		in.MustDo(t, in.Admin, `mutation($t: ID!) { addMailbox(tenantId: $t, address: "welcome@celanio.com", displayName: "celanio GmbH", sender: true, replyTo: true) { id } }`,
			map[string]any{"t": tn.CreateTenant.ID}, &mb)
		users := map[string]string{}
		for _, l := range []string{"mustermann", "anna"} {
			var u struct{ CreateUser struct{ ID string } }
			in.MustDo(t, in.Admin, `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: $l, email: "x@celanio.com", role: EMPLOYEE) { id } }`,
				map[string]any{"t": tn.CreateTenant.ID, "l": l}, &u)
			users[l] = u.CreateUser.ID
		}
		time.Sleep(5 * time.Millisecond) // the clock must move between "then" and the next change
		then := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(5 * time.Millisecond)
		in.MustDo(t, in.Admin, `mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`, map[string]any{"m": mb.AddMailbox.ID, "u": users["anna"]}, nil)
		in.MustDo(t, in.Admin, `mutation($u: ID!) { deleteUser(userId: $u) }`, map[string]any{"u": users["mustermann"]}, nil)

		access := func(at any) []string {
			var r struct {
				MailboxAccess conn[struct{ LoginName string }]
			}
			in.MustDo(t, in.Auditor, `query($m: ID!, $at: Time) { mailboxAccess(mailboxId: $m, at: $at) { edges { node { loginName } } } }`, map[string]any{"m": mb.AddMailbox.ID, "at": at}, &r)
			var out []string
			for _, u := range r.MailboxAccess {
				out = append(out, u.LoginName)
			}
			return out
		}
		if got, want := access(then), []string{"anna", "mustermann"}; !sameSet(got, want) {
			t.Errorf("mailboxAccess then: got %v, want %v (open mailbox, R11)", got, want)
		}
		if got, want := access(nil), []string{"anna"}; !sameSet(got, want) {
			t.Errorf("mailboxAccess now: got %v, want %v (granted to anna)", got, want)
		}
		var past struct{ SenderOptions []struct{ Address string } }
		in.MustDo(t, in.Auditor, `query($u: ID!, $at: Time) { senderOptions(userId: $u, at: $at) { address } }`, map[string]any{"u": users["mustermann"], "at": then}, &past)
		var addrs []string
		for _, o := range past.SenderOptions {
			addrs = append(addrs, o.Address)
		}
		if want := []string{"noreply@example.com", "welcome@celanio.com"}; !reflect.DeepEqual(addrs, want) {
			t.Errorf("senderOptions of the deleted user then: got %v, want %v", addrs, want)
		}
		if r := in.Do(t, in.Auditor, `query($u: ID!) { senderOptions(userId: $u) { address } }`, map[string]any{"u": users["mustermann"]}); r.Code() != "NOT_FOUND" {
			t.Errorf("senderOptions of the deleted user now: got %q, want NOT_FOUND", r.Code())
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
