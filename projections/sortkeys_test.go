package projections_test

import (
	"testing"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// TestSortKeysFilledAfterUpgrade: rows from before migration
// 20261207150001 (sort and search keys NULL) get their keys, folded in Go,
// when the directory starts consuming (Directory.Prepare), so an upgraded
// database pages and searches as a fresh one (SPEC §4 order, case-folded).
func TestSortKeysFilledAfterUpgrade(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, true, projections.Directory{})
		ctx := seed.AsSystem(t.Context())
		tid, _, err := f.svc.Commands.Tenants.Create(ctx, "Ärger GmbH")
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, n := range []string{"Zora", "ännchen", "Bert"} {
			id, _, err := f.svc.Commands.Users.Create(ctx, tid, "login-"+n, n, n+"@example.com", domain.RoleEmployee)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, id)
		}
		if _, _, err := f.svc.Commands.Groups.Create(ctx, tid, "Öffentlich"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Commands.Mailboxes.Add(ctx, tid, app.AddMailboxInput{Address: "info@example.com", DisplayName: "Überall", Sender: true}); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t)
		for _, table := range []string{"rm_tenants", "rm_users", "rm_groups", "rm_mailboxes"} {
			if _, err := db.Write.NewRaw(`UPDATE ` + table + ` SET sort_key = NULL, search_key = NULL`).Exec(t.Context()); err != nil {
				t.Fatal(err)
			}
		}

		// A directory runner starting on the upgraded database fills them
		// before it consumes (Run's running says it consumes).
		setup(t, db, true, projections.Directory{})

		r := projections.NewReader(db.Read, nil)
		got, total, err := r.UsersPage(t.Context(), tid, projections.Page{First: 10}, "")
		if err != nil {
			t.Fatal(err)
		}
		if total != 3 || len(got) != 3 || got[0].ID != users[2] || got[1].ID != users[0] || got[2].ID != users[1] {
			t.Fatalf("users after upgrade: got %+v (total %d), want Bert, Zora, ännchen (code point order of the folded names)", got, total)
		}
		for _, c := range []struct {
			what, search string
			n            func() (int, error)
		}{
			{"users by e-mail", "ÄNNCHEN@", func() (int, error) {
				_, n, err := r.UsersPage(t.Context(), tid, projections.Page{Search: "ÄNNCHEN@"}, "")
				return n, err
			}},
			{"tenants", "ärger", func() (int, error) {
				_, n, err := r.TenantsPage(t.Context(), projections.Page{Search: "ärger"}, "")
				return n, err
			}},
			{"groups", "ÖFF", func() (int, error) {
				_, n, err := r.GroupsPage(t.Context(), tid, projections.Page{Search: "ÖFF"}, "")
				return n, err
			}},
			{"mailboxes", "überall", func() (int, error) {
				_, n, err := r.MailboxesPage(t.Context(), tid, projections.Page{Search: "überall"})
				return n, err
			}},
		} {
			n, err := c.n()
			if err != nil || n != 1 {
				t.Errorf("%s, search %q after upgrade: got %d (%v), want 1", c.what, c.search, n, err)
			}
		}
	})
}
