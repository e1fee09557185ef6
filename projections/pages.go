package projections

import (
	"context"
	"strings"
)

// Key is where a directory row stands in its list: SPEC §4 orders tenants,
// users, mailboxes and groups by name, case-folded (Fold), then id. Users
// and mailboxes go by their display name.
type Key struct{ Sort, ID string }

// Less orders keys as the lists are ordered (byte-wise, as the databases
// compare sort_key).
func (k Key) Less(o Key) bool { return k.Sort < o.Sort || (k.Sort == o.Sort && k.ID < o.ID) }

// Keys of the rows, as stored in sort_key.
func (t TenantRow) Key() Key  { return Key{Fold(t.Name), t.ID} }
func (u UserRow) Key() Key    { return Key{Fold(u.DisplayName), u.ID} }
func (g GroupRow) Key() Key   { return Key{Fold(g.Name), g.ID} }
func (m MailboxRow) Key() Key { return Key{Fold(m.DisplayName), m.ID} }

// Page asks for one page of a directory list: keyset pagination on the
// (tenant_id,) sort_key, id indexes, no OFFSET, so rows added or removed
// meanwhile never make a row that stays be skipped or repeated.
type Page struct {
	// First is how many rows are wanted; one more is read, to tell
	// whether more follow.
	First int
	// After, when set, starts the page after this key.
	After *Key
	// Search, when not empty, keeps the rows whose folded name (or
	// search key: a user's login name and e-mail, a mailbox's address)
	// contains it, folded; LIKE's wildcards in it match only themselves.
	Search string
}

// list is one paged query: columns, tables and filter, with the alias of
// the listed table.
type list struct {
	cols, from, alias string
	where             []string
	args              []any
}

// page reads up to p.First+1 rows of l into dest and counts every row the
// filter and the search keep (the connection's totalCount).
func (r *Reader) page(ctx context.Context, dest any, l list, p Page) (int, error) {
	a := l.alias
	where, args := append([]string{}, l.where...), append([]any{}, l.args...)
	if p.Search != "" {
		pattern := "%" + escapeLike(Fold(p.Search)) + "%"
		where = append(where, `(`+a+`sort_key LIKE ? ESCAPE '\' OR `+a+`search_key LIKE ? ESCAPE '\')`)
		args = append(args, pattern, pattern)
	}
	cond := "TRUE"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var total []int
	if err := r.db.NewRaw(`SELECT count(*) FROM `+l.from+` WHERE `+cond, args...).Scan(ctx, &total); err != nil {
		return 0, err
	}
	if p.After != nil {
		// A row value, so both databases seek the index to the key.
		cond += ` AND (` + a + `sort_key, ` + a + `id) > (?, ?)`
		args = append(args, p.After.Sort, p.After.ID)
	}
	args = append(args, p.First+1)
	err := r.db.NewRaw(`SELECT `+l.cols+` FROM `+l.from+` WHERE `+cond+` ORDER BY `+a+`sort_key, `+a+`id LIMIT ?`, args...).Scan(ctx, dest)
	if len(total) == 0 {
		return 0, err
	}
	return total[0], err
}

// escapeLike makes LIKE's wildcards (and the escape character) in s
// match only themselves, with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// TenantsPage reads a page of tenants; onlyID, when set, keeps that
// tenant only (a tenant user's own).
func (r *Reader) TenantsPage(ctx context.Context, p Page, onlyID string) ([]TenantRow, int, error) {
	l := list{cols: tenantColumns, from: `rm_tenants`}
	if onlyID != "" {
		l.where, l.args = []string{`id = ?`}, []any{onlyID}
	}
	var rows []TenantRow
	n, err := r.page(ctx, &rows, l, p)
	return rows, n, err
}

// UsersPage reads a page of a tenant's users; onlyID, when set, keeps that
// user only (a caller who may not list the tenant sees itself).
func (r *Reader) UsersPage(ctx context.Context, tenantID string, p Page, onlyID string) ([]UserRow, int, error) {
	l := list{cols: userColumns, from: `rm_users`, where: []string{`tenant_id = ?`}, args: []any{tenantID}}
	if onlyID != "" {
		l.where, l.args = append(l.where, `id = ?`), append(l.args, onlyID)
	}
	var rows []UserRow
	n, err := r.page(ctx, &rows, l, p)
	return rows, n, err
}

// GroupsPage reads a page of a tenant's groups; memberID, when set, keeps
// the groups that user is a member of.
func (r *Reader) GroupsPage(ctx context.Context, tenantID string, p Page, memberID string) ([]GroupRow, int, error) {
	l := list{cols: `id, tenant_id, name`, from: `rm_groups`, where: []string{`tenant_id = ?`}, args: []any{tenantID}}
	if memberID != "" {
		l.where = append(l.where, `id IN (SELECT group_id FROM rm_group_members WHERE user_id = ?)`)
		l.args = append(l.args, memberID)
	}
	var rows []GroupRow
	n, err := r.page(ctx, &rows, l, p)
	return rows, n, err
}

// MailboxesPage reads a page of a tenant's mailboxes.
func (r *Reader) MailboxesPage(ctx context.Context, tenantID string, p Page) ([]MailboxRow, int, error) {
	l := list{cols: mailboxColumns, from: `rm_mailboxes`, where: []string{`tenant_id = ?`}, args: []any{tenantID}}
	var rows []MailboxRow
	n, err := r.page(ctx, &rows, l, p)
	return rows, n, err
}

// MembersPage reads a page of a group's members (users of the group's
// tenant, so the tenant's index orders them).
func (r *Reader) MembersPage(ctx context.Context, g GroupRow, p Page) ([]UserRow, int, error) {
	l := list{cols: prefixed("u.", userColumns), from: `rm_users u JOIN rm_group_members m ON m.user_id = u.id`, alias: "u.",
		where: []string{`m.group_id = ?`, `u.tenant_id = ?`}, args: []any{g.ID, g.TenantID}}
	var rows []UserRow
	n, err := r.page(ctx, &rows, l, p)
	return rows, n, err
}
