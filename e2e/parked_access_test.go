package e2e_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
)

// brokenStreams is a projection that fails, not transiently, on every event
// of the streams it is told are broken, so the runner parks them (R35)
// until the test "fixes" it and retries the parked events.
type brokenStreams struct {
	projections.Projection
	mu     *sync.Mutex
	broken map[string]bool
}

func (b brokenStreams) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	b.mu.Lock()
	broken := b.broken[rec.StreamID]
	b.mu.Unlock()
	if broken {
		return errors.New("broken by the test")
	}
	return b.Projection.Apply(ctx, tx, rec)
}

func (b brokenStreams) set(stream string, broken bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.broken[stream] = broken
}

// R35 fails closed also for mailboxAccess: a user whose access comes
// through a mailbox, user or group with a parked event is not listed —
// as the sender options leave the mailbox out — and is listed again once
// retry-parked re-applied the event after the fix.
func TestR35_MailboxAccessLeavesOutWhatIsParked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		dir := brokenStreams{projections.Directory{}, &sync.Mutex{}, map[string]bool{}}
		e := &env{Instance: servertest.StartWith(t, db, server.Options{
			Projections: []projections.Projection{dir, projections.Audit{}, projections.Messages{}},
		})}
		e.enableSystemServer(t)
		access := func(t *testing.T, mb string) []string {
			t.Helper()
			var r struct{ MailboxAccess conn[struct{ ID string }] }
			e.must(t, e.Admin, `query($m:ID!){ mailboxAccess(mailboxId:$m) { edges { node { id } } } }`, map[string]any{"m": mb}, &r)
			var ids []string
			for _, u := range r.MailboxAccess {
				ids = append(ids, u.ID)
			}
			return ids
		}
		for _, c := range []struct {
			name string
			// grant sets up a restricted mailbox used by user through a
			// grant, and returns the stream to park and a change of it.
			grant func(t *testing.T, tenant, mb, user string) (stream, q string, vars map[string]any)
		}{
			{"parked group", func(t *testing.T, tenant, mb, user string) (string, string, map[string]any) {
				var g struct{ CreateGroup struct{ ID string } }
				e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Sales"){ id } }`, map[string]any{"t": tenant}, &g)
				e.must(t, e.Admin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": g.CreateGroup.ID, "u": user}, nil)
				e.must(t, e.Admin, `mutation($m:ID!,$g:ID!){ grantGroup(mailboxId:$m, groupId:$g){ id } }`, map[string]any{"m": mb, "g": g.CreateGroup.ID}, nil)
				late := e.user(t, tenant, "Lea Late", "lea@a.example", "EMPLOYEE")
				return "group-" + g.CreateGroup.ID, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`,
					map[string]any{"g": g.CreateGroup.ID, "u": late}
			}},
			{"parked mailbox", func(t *testing.T, tenant, mb, user string) (string, string, map[string]any) {
				e.must(t, e.Admin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": user}, nil)
				return "mailbox-" + mb, `mutation($m:ID!){ updateMailbox(id:$m, displayName:"Sales Team"){ id } }`, map[string]any{"m": mb}
			}},
			{"parked user", func(t *testing.T, tenant, mb, user string) (string, string, map[string]any) {
				e.must(t, e.Admin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": user}, nil)
				return "user-" + user, `mutation($u:ID!){ updateUser(userId:$u, displayName:"Gus Renamed"){ id } }`, map[string]any{"u": user}
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				tenant := e.createTenant(t, e.uniq("Tenant"))
				e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 5})
				user := e.user(t, tenant, "Gus Granted", "gus@a.example", "EMPLOYEE")
				mb := e.addMailbox(t, e.Admin, tenant, "sales@a.example", "Sales", true, true, nil)
				stream, q, vars := c.grant(t, tenant, mb, user)
				if got := access(t, mb); !slices.Contains(got, user) || !hasAddress(e.senderOptions(t, user), "sales@a.example") {
					t.Fatalf("before parking: mailboxAccess %v, want %s among them: the test proves nothing", got, user)
				}

				dir.set(stream, true)
				if r := e.do(t, e.Admin, q, vars); len(r.Errors) > 0 {
					t.Fatalf("change of %s: got errors %s, want none", stream, raw(r))
				}
				waitParked(t, e, stream)
				if hasAddress(e.senderOptions(t, user), "sales@a.example") {
					t.Errorf("parked %s: the mailbox is still a sender option of %s", stream, user)
				}
				if got := access(t, mb); slices.Contains(got, user) {
					t.Errorf("parked %s: mailboxAccess got %v, want %s left out (R35 fails closed)", stream, got, user)
				}

				dir.set(stream, false)
				if res, err := projections.RetryParked(t.Context(), e.Server.Store, dir); err != nil || res.Left != 0 {
					t.Fatalf("retry-parked: got %+v, %v, want nothing left", res, err)
				}
				if got := access(t, mb); !slices.Contains(got, user) {
					t.Errorf("after retry-parked: mailboxAccess got %v, want %s among them", got, user)
				}
			})
		}
	})
}

// waitParked waits until the directory parked an event of stream.
func waitParked(t *testing.T, e *env, stream string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		parked, err := e.Server.Store.Parked(t.Context(), "directory")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parked {
			if p.StreamID == stream {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no event of %s was parked", stream)
}
