package projections

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// Fold is the case folding of the directory's sort and search keys
// (SPEC §4: lists ordered by name, case-folded, then id; searches
// case-insensitive). The same function folds what is stored and what is
// searched for; it is Unicode-aware ("Ä" and "ä" fold alike), which SQL's
// lower() is not on SQLite.
func Fold(s string) string { return strings.ToLower(s) }

// userSearchKey is what a user search looks at besides the display name
// (sort_key): login name and e-mail, folded, one per line (a search is one
// line, so it cannot match across them).
func userSearchKey(loginName, email string) string { return Fold(loginName) + "\n" + Fold(email) }

// Prepare fills the sort and search keys of rows written before they
// existed (migration 20261207150001 adds them NULL), in Go with Fold, so
// an upgraded database pages and searches as a fresh one. The runner calls
// it before the directory consumes; it is a no-op once every row has keys.
func (Directory) Prepare(ctx context.Context, db *bun.DB) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var tenants, groups []struct {
			ID   string `bun:"id"`
			Name string `bun:"name"`
		}
		if err := tx.NewRaw(`SELECT id, name FROM rm_tenants WHERE sort_key IS NULL`).Scan(ctx, &tenants); err != nil {
			return err
		}
		for _, t := range tenants {
			if _, err := tx.NewRaw(`UPDATE rm_tenants SET sort_key = ?, search_key = ? WHERE id = ?`, Fold(t.Name), "", t.ID).Exec(ctx); err != nil {
				return err
			}
		}
		if err := tx.NewRaw(`SELECT id, name FROM rm_groups WHERE sort_key IS NULL`).Scan(ctx, &groups); err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := tx.NewRaw(`UPDATE rm_groups SET sort_key = ?, search_key = ? WHERE id = ?`, Fold(g.Name), "", g.ID).Exec(ctx); err != nil {
				return err
			}
		}
		var users []struct {
			ID          string `bun:"id"`
			LoginName   string `bun:"login_name"`
			DisplayName string `bun:"display_name"`
			Email       string `bun:"email"`
		}
		if err := tx.NewRaw(`SELECT id, login_name, display_name, email FROM rm_users WHERE sort_key IS NULL`).Scan(ctx, &users); err != nil {
			return err
		}
		for _, u := range users {
			if _, err := tx.NewRaw(`UPDATE rm_users SET sort_key = ?, search_key = ? WHERE id = ?`,
				Fold(u.DisplayName), userSearchKey(u.LoginName, u.Email), u.ID).Exec(ctx); err != nil {
				return err
			}
		}
		var mailboxes []struct {
			ID          string `bun:"id"`
			Address     string `bun:"address"`
			DisplayName string `bun:"display_name"`
		}
		if err := tx.NewRaw(`SELECT id, address, display_name FROM rm_mailboxes WHERE sort_key IS NULL`).Scan(ctx, &mailboxes); err != nil {
			return err
		}
		for _, m := range mailboxes {
			if _, err := tx.NewRaw(`UPDATE rm_mailboxes SET sort_key = ?, search_key = ? WHERE id = ?`,
				Fold(m.DisplayName), Fold(m.Address), m.ID).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}
