package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/tokenusage"
)

// Reader answers queries from the read models. Its hot queries run as
// prepared statements (SQLite would otherwise parse every statement anew),
// and the few per-system and per-tenant facts that every option list joins
// (system server, tenant policy) are kept in memory until the next change
// (see Generation).
type Reader struct {
	db    *bun.DB
	stmts sync.Map // query text → *sql.Stmt

	// generation tells whether anything may have changed since a cached
	// value was read: it moves on every append and every projection
	// commit, in this process or (through LISTEN/NOTIFY) another.
	generation func() uint64
	mu         sync.Mutex
	factsGen   uint64
	system     *SystemRow
	tenants    map[string]TenantRow
	users      map[string]UserRow
	options    map[optionsKey][]options.Option
	usage      *tokenusage.Store
}

type optionsKey struct {
	userID string
	kind   options.Kind
}

// cacheLimit bounds the users and option lists kept between two changes.
const cacheLimit = 20000

// NewReader reads through db (the read pool). generation, when not nil,
// lets it keep system and tenant facts in memory between changes.
func NewReader(db *bun.DB, generation func() uint64) *Reader {
	return &Reader{db: db, generation: generation, usage: tokenusage.New(db), tenants: map[string]TenantRow{},
		users: map[string]UserRow{}, options: map[optionsKey][]options.Option{}}
}

// scan runs a hot query as a prepared statement and scans its rows into
// dest (a slice, as bun scans).
func (r *Reader) scan(ctx context.Context, dest any, query string, args ...any) error {
	kind := database.SQLite
	if r.db.Dialect().Name() == dialect.PG {
		kind = database.Postgres
	}
	q := database.Rebind(kind, query)
	st, ok := r.stmts.Load(q)
	if !ok {
		prepared, err := r.db.DB.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		if st, ok = r.stmts.LoadOrStore(q, prepared); ok {
			_ = prepared.Close()
		}
	}
	rows, err := st.(*sql.Stmt).QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return r.db.ScanRows(ctx, rows, dest)
}

// cached looks a value up in one of the generation's caches.
func cached[K comparable, V any](r *Reader, m func() map[K]V, key K) (V, uint64, bool) {
	var zero V
	if r.generation == nil {
		return zero, 0, false
	}
	gen := r.generation()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.factsGen != gen {
		return zero, gen, false
	}
	v, ok := m()[key]
	return v, gen, ok
}

// remember stores a value read at generation gen, unless the generation
// moved on meanwhile or the cache is full.
func remember[K comparable, V any](r *Reader, m func() map[K]V, gen uint64, key K, v V) {
	if r.generation == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.factsGen != gen {
		if r.generation() != gen {
			return
		}
		r.resetLocked(gen)
	}
	if c := m(); len(c) < cacheLimit {
		c[key] = v
	}
}

func (r *Reader) resetLocked(gen uint64) {
	r.factsGen, r.system = gen, nil
	r.tenants, r.users, r.options = map[string]TenantRow{}, map[string]UserRow{}, map[optionsKey][]options.Option{}
}

// facts returns the cached system row and, when tenantID is set, the
// tenant row, reading them again after any change.
func (r *Reader) facts(ctx context.Context, tenantID string) (SystemRow, TenantRow, error) {
	var gen uint64
	if r.generation != nil {
		gen = r.generation()
		r.mu.Lock()
		if r.factsGen == gen && r.system != nil {
			sys := *r.system
			t, ok := r.tenants[tenantID]
			r.mu.Unlock()
			if ok || tenantID == "" {
				return sys, t, nil
			}
		} else {
			r.mu.Unlock()
		}
	}
	sys, err := r.readSystem(ctx)
	if err != nil {
		return SystemRow{}, TenantRow{}, err
	}
	var t TenantRow
	if tenantID != "" {
		if t, err = r.readTenant(ctx, tenantID); err != nil {
			return SystemRow{}, TenantRow{}, err
		}
	}
	if r.generation != nil {
		r.mu.Lock()
		if r.factsGen != gen {
			r.resetLocked(gen)
		}
		r.system = &sys
		if tenantID != "" {
			r.tenants[tenantID] = t
		}
		r.mu.Unlock()
	}
	return sys, t, nil
}

// SystemRow is the system mail server.
type SystemRow struct {
	Configured         bool    `bun:"configured"`
	Enabled            bool    `bun:"enabled"`
	Settings           *string `bun:"settings"`
	SupportAddress     *string `bun:"support_address"`
	AllowTenantAddress bool    `bun:"allow_tenant_address"`
	AttachSystemInfo   bool    `bun:"attach_system_info"`
}

// Facts are the R1 facts.
func (s SystemRow) Facts() system.Facts {
	return system.Facts{Configured: s.Configured, Enabled: s.Enabled}
}

// System reads the system server (the zero row before any configuration).
func (r *Reader) System(ctx context.Context) (SystemRow, error) {
	sys, _, err := r.facts(ctx, "")
	return sys, err
}

func (r *Reader) readSystem(ctx context.Context) (SystemRow, error) {
	var rows []SystemRow
	if err := r.scan(ctx, &rows, `SELECT configured, enabled, settings, support_address, allow_tenant_address, attach_system_info FROM rm_system WHERE id = 1`); err != nil {
		return SystemRow{}, err
	}
	if len(rows) == 0 {
		return SystemRow{}, nil
	}
	return rows[0], nil
}

// ParseSettings decodes a stored settings view (nil for NULL).
func ParseSettings(raw *string) (*Settings, error) {
	if raw == nil {
		return nil, nil
	}
	var s Settings
	if err := json.Unmarshal([]byte(*raw), &s); err != nil {
		return nil, fmt.Errorf("projections: settings: %w", err)
	}
	return &s, nil
}

// TenantRow is a tenant.
type TenantRow struct {
	ID                  string  `bun:"id"`
	Name                string  `bun:"name"`
	AllowSystemServer   bool    `bun:"allow_system_server"`
	AllowOwnServer      bool    `bun:"allow_own_server"`
	MailboxQuota        int     `bun:"mailbox_quota"`
	UserAddressAsSender bool    `bun:"user_address_as_sender"`
	DuplicatePolicy     string  `bun:"duplicate_policy"`
	BulkLimitLifted     bool    `bun:"bulk_limit_lifted"`
	Server              *string `bun:"server"`
	SupportAddress      *string `bun:"support_address"`
}

// Policy is the tenant's policy as the domain knows it.
func (t TenantRow) Policy() tenant.Policy {
	dp, err := tenant.ParseDuplicatePolicy(t.DuplicatePolicy)
	if err != nil {
		dp = tenant.PreferUser
	}
	return tenant.Policy{AllowSystemServer: t.AllowSystemServer, AllowOwnServer: t.AllowOwnServer, MailboxQuota: t.MailboxQuota,
		UserAddressAsSender: t.UserAddressAsSender, DuplicatePolicy: dp, BulkLimitLifted: t.BulkLimitLifted}
}

// Transport is the tenant's effective transport (R1–R3) given the system.
func (t TenantRow) Transport(sys SystemRow) domain.TransportKind {
	return tenant.ResolveTransport(sys.Facts(), t.Server != nil, t.Policy())
}

// SystemMailbox is the sender address and name of the server the tenant
// resolves to (R8); empty when sending is unavailable.
func (t TenantRow) SystemMailbox(sys SystemRow) (address, name string) {
	var raw *string
	switch t.Transport(sys) {
	case domain.TransportTenantServer:
		raw = t.Server
	case domain.TransportSystemServer:
		raw = sys.Settings
	default:
		return "", ""
	}
	s, err := ParseSettings(raw)
	if err != nil || s == nil {
		return "", ""
	}
	return s.SenderAddress, s.SenderName
}

const tenantColumns = `id, name, allow_system_server, allow_own_server, mailbox_quota, user_address_as_sender, duplicate_policy, bulk_limit_lifted, server, support_address`

// Tenant reads one tenant (ErrNotFound when none).
func (r *Reader) Tenant(ctx context.Context, id string) (TenantRow, error) {
	_, t, err := r.facts(ctx, id)
	return t, err
}

func (r *Reader) readTenant(ctx context.Context, id string) (TenantRow, error) {
	var rows []TenantRow
	if err := r.scan(ctx, &rows, `SELECT `+tenantColumns+` FROM rm_tenants WHERE id = ?`, id); err != nil {
		return TenantRow{}, err
	}
	if len(rows) == 0 {
		return TenantRow{}, ErrNotFound
	}
	return rows[0], nil
}

// Tenants reads every tenant, oldest first.
func (r *Reader) Tenants(ctx context.Context) ([]TenantRow, error) {
	var rows []TenantRow
	err := r.db.NewRaw(`SELECT `+tenantColumns+` FROM rm_tenants ORDER BY seq`).Scan(ctx, &rows)
	return rows, err
}

// UserRow is a user.
type UserRow struct {
	ID          string `bun:"id"`
	TenantID    string `bun:"tenant_id"`
	LoginName   string `bun:"login_name"`
	DisplayName string `bun:"display_name"`
	Email       string `bun:"email"`
	EmailKey    string `bun:"email_key"`
	Role        string `bun:"role"`
	Blocked     bool   `bun:"blocked"`
}

const userColumns = `id, tenant_id, login_name, display_name, email, email_key, role, blocked`

// User reads one user (ErrNotFound when none or deleted).
func (r *Reader) User(ctx context.Context, id string) (UserRow, error) {
	users := func() map[string]UserRow { return r.users }
	u, gen, ok := cached(r, users, id)
	if ok {
		return u, nil
	}
	u, err := r.readUser(ctx, id)
	if err == nil {
		remember(r, users, gen, id, u)
	}
	return u, err
}

func (r *Reader) readUser(ctx context.Context, id string) (UserRow, error) {
	var rows []UserRow
	err := r.scan(ctx, &rows, `SELECT `+userColumns+` FROM rm_users WHERE id = ?`, id)
	if err != nil {
		return UserRow{}, err
	}
	if len(rows) == 0 {
		return UserRow{}, ErrNotFound
	}
	return rows[0], nil
}

// Users reads the users with the given ids (missing ones left out).
func (r *Reader) Users(ctx context.Context, ids []string) ([]UserRow, error) {
	var rows []UserRow
	if len(ids) == 0 {
		return rows, nil
	}
	err := r.db.NewRaw(`SELECT `+userColumns+` FROM rm_users WHERE id IN (?) ORDER BY seq`, bun.List(ids)).Scan(ctx, &rows)
	return rows, err
}

// UsersOfTenant reads a tenant's users, oldest first.
func (r *Reader) UsersOfTenant(ctx context.Context, tenantID string) ([]UserRow, error) {
	var rows []UserRow
	err := r.db.NewRaw(`SELECT `+userColumns+` FROM rm_users WHERE tenant_id = ? ORDER BY seq`, tenantID).Scan(ctx, &rows)
	return rows, err
}

// GroupRow is a group.
type GroupRow struct {
	ID       string `bun:"id"`
	TenantID string `bun:"tenant_id"`
	Name     string `bun:"name"`
}

// Group reads one group.
func (r *Reader) Group(ctx context.Context, id string) (GroupRow, error) {
	var rows []GroupRow
	if err := r.db.NewRaw(`SELECT id, tenant_id, name FROM rm_groups WHERE id = ?`, id).Scan(ctx, &rows); err != nil {
		return GroupRow{}, err
	}
	if len(rows) == 0 {
		return GroupRow{}, ErrNotFound
	}
	return rows[0], nil
}

// Groups reads the groups with the given ids.
func (r *Reader) Groups(ctx context.Context, ids []string) ([]GroupRow, error) {
	var rows []GroupRow
	if len(ids) == 0 {
		return rows, nil
	}
	err := r.db.NewRaw(`SELECT id, tenant_id, name FROM rm_groups WHERE id IN (?) ORDER BY seq`, bun.List(ids)).Scan(ctx, &rows)
	return rows, err
}

// GroupsOfUser reads the groups a user is a member of.
func (r *Reader) GroupsOfUser(ctx context.Context, userID string) ([]GroupRow, error) {
	var rows []GroupRow
	err := r.db.NewRaw(`SELECT g.id, g.tenant_id, g.name FROM rm_groups g JOIN rm_group_members m ON m.group_id = g.id
		WHERE m.user_id = ? ORDER BY g.seq`, userID).Scan(ctx, &rows)
	return rows, err
}

// IsMember reports whether a user is in a group.
func (r *Reader) IsMember(ctx context.Context, groupID, userID string) (bool, error) {
	var found []int
	if err := r.db.NewRaw(`SELECT 1 FROM rm_group_members WHERE group_id = ? AND user_id = ?`, groupID, userID).Scan(ctx, &found); err != nil {
		return false, err
	}
	return len(found) > 0, nil
}

// MailboxRow is a mailbox.
type MailboxRow struct {
	ID          string  `bun:"id"`
	TenantID    string  `bun:"tenant_id"`
	Address     string  `bun:"address"`
	AddressKey  string  `bun:"address_key"`
	DisplayName string  `bun:"display_name"`
	Sender      bool    `bun:"sender"`
	ReplyTo     bool    `bun:"reply_to"`
	Global      bool    `bun:"global"`
	Settings    *string `bun:"settings"`
	GrantCount  int     `bun:"grant_count"`
	Seq         int64   `bun:"seq"`
	// RestrictedSet is the last MailboxRestrictionChanged's value, nil
	// when the mailbox's log has none (see Restricted).
	RestrictedSet *bool `bun:"restricted"`
}

// Restricted reports R11 for the mailbox (mailbox.IsRestricted).
func (m MailboxRow) Restricted() bool { return mailbox.IsRestricted(m.RestrictedSet, m.GrantCount) }

// openMailbox is the SQL form of !mailbox.IsRestricted for rm_mailboxes m,
// with one argument: false.
const openMailbox = `COALESCE(m.restricted, m.grant_count > 0) = ?`

const mailboxColumns = `id, tenant_id, address, address_key, display_name, sender, reply_to, global, settings, grant_count, seq, restricted`

// Mailbox reads one mailbox.
func (r *Reader) Mailbox(ctx context.Context, id string) (MailboxRow, error) {
	var rows []MailboxRow
	if err := r.db.NewRaw(`SELECT `+mailboxColumns+` FROM rm_mailboxes WHERE id = ?`, id).Scan(ctx, &rows); err != nil {
		return MailboxRow{}, err
	}
	if len(rows) == 0 {
		return MailboxRow{}, ErrNotFound
	}
	return rows[0], nil
}

// MailboxesOfTenant reads a tenant's mailboxes, oldest first.
func (r *Reader) MailboxesOfTenant(ctx context.Context, tenantID string) ([]MailboxRow, error) {
	var rows []MailboxRow
	err := r.db.NewRaw(`SELECT `+mailboxColumns+` FROM rm_mailboxes WHERE tenant_id = ? ORDER BY seq`, tenantID).Scan(ctx, &rows)
	return rows, err
}

// GlobalMailboxesWithKeys returns the ids of the global mailboxes of
// tenants other than exceptTenant whose address key is one of keys (the
// candidates a sender may use across tenants; the caller loads their
// streams for the authoritative state).
func (r *Reader) GlobalMailboxesWithKeys(ctx context.Context, exceptTenant string, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var ids []string
	err := r.db.NewRaw(`SELECT id FROM rm_mailboxes WHERE global = ? AND tenant_id <> ? AND address_key IN (?)`,
		true, exceptTenant, bun.In(keys)).Scan(ctx, &ids)
	return ids, err
}

// GrantRow is one grant of a mailbox.
type GrantRow struct {
	Kind     string `bun:"grantee_kind"`
	ID       string `bun:"grantee_id"`
	TenantID string `bun:"grantee_tenant_id"`
}

// GrantsOf reads a mailbox's grants, oldest first.
func (r *Reader) GrantsOf(ctx context.Context, mailboxID string) ([]GrantRow, error) {
	var rows []GrantRow
	err := r.db.NewRaw(`SELECT grantee_kind, grantee_id, grantee_tenant_id FROM rm_mailbox_grants WHERE mailbox_id = ? ORDER BY seq`, mailboxID).Scan(ctx, &rows)
	return rows, err
}

// R35 fails closed: a user, mailbox or group with an event the directory
// parked offers and grants nothing until it is re-applied. These
// conditions say so once for every read of access (readOptions,
// MailboxAccess), over rm_users u, rm_mailboxes m and rm_access a; each
// takes one argument, directoryGroup.
const (
	directoryGroup = "directory"
	parkedUser     = `'user-' || u.id IN (` + eventstore.ParkedStreams + `)`
	parkedMailbox  = `'mailbox-' || m.id IN (` + eventstore.ParkedStreams + `)`
	// parkedGrant: access through a group with a parked event.
	parkedGrant = `(a.via <> 'user' AND 'group-' || a.via IN (` + eventstore.ParkedStreams + `))`
)

// MailboxAccess lists the users who may use a mailbox now (R11, R12, R20),
// oldest first: every user of its tenant (of every tenant when it is
// global) while it is open, its grantees and the members of its granted
// groups once it is restricted — each decided by options.Usable, as the
// sender options are. What R35 parked grants nothing, as in readOptions:
// a mailbox with a parked event is usable by nobody, a user with one uses
// nothing, a group with one grants nothing.
func (r *Reader) MailboxAccess(ctx context.Context, mailboxID string) ([]UserRow, error) {
	m, err := r.Mailbox(ctx, mailboxID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	const cols = `u.id, u.tenant_id, u.login_name, u.display_name, u.email, u.email_key, u.role, u.blocked, u.seq`
	var rows []struct {
		UserRow
		Seq int64 `bun:"seq"`
	}
	if m.Restricted() {
		err = r.db.NewRaw(`SELECT DISTINCT `+cols+` FROM rm_access a JOIN rm_users u ON u.id = a.user_id JOIN rm_mailboxes m ON m.id = a.mailbox_id
			WHERE a.mailbox_id = ? AND NOT `+parkedMailbox+` AND NOT `+parkedGrant+` AND NOT `+parkedUser+` ORDER BY u.seq`,
			mailboxID, directoryGroup, directoryGroup, directoryGroup).Scan(ctx, &rows)
	} else {
		err = r.db.NewRaw(`SELECT `+cols+` FROM rm_users u JOIN rm_mailboxes m ON m.id = ?
			WHERE (u.tenant_id = m.tenant_id OR m.global = ?) AND NOT `+parkedMailbox+` AND NOT `+parkedUser+` ORDER BY u.seq`,
			mailboxID, true, directoryGroup, directoryGroup).Scan(ctx, &rows)
	}
	if err != nil {
		return nil, err
	}
	c := options.Candidate{MailboxID: m.ID, TenantID: m.TenantID, Global: m.Global, Restricted: m.Restricted(), Granted: m.Restricted()}
	out := []UserRow{}
	for _, u := range rows {
		role, err := domain.ParseRole(u.Role)
		if err != nil {
			return nil, err
		}
		v := options.Viewer{UserID: u.ID, TenantID: u.TenantID, Role: role, Blocked: u.Blocked, Active: true}
		if options.Usable(v, c) {
			out = append(out, u.UserRow)
		}
	}
	return out, nil
}

// Options reads a user's sender or reply-to options (R1, R2, R8,
// R11–R16, R20): an indexed read of the open mailboxes of the user's
// tenant, the open global ones and the user's access rows, joined with
// the tenant's facts, computed by the pure domain/options.
func (r *Reader) Options(ctx context.Context, kind options.Kind, userID string) ([]options.Option, error) {
	u, err := r.User(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.OptionsOf(ctx, kind, u)
}

// OptionsOf is Options for a user row already read. Between two changes
// a user's list is answered from memory.
func (r *Reader) OptionsOf(ctx context.Context, kind options.Kind, u UserRow) ([]options.Option, error) {
	lists := func() map[optionsKey][]options.Option { return r.options }
	key := optionsKey{u.ID, kind}
	if opts, _, ok := cached(r, lists, key); ok {
		return opts, nil
	}
	gen := uint64(0)
	if r.generation != nil {
		gen = r.generation()
		// u may have been read before a change (a block, R20): read it
		// again at this generation, so what is cached under gen is current.
		fresh, err := r.User(ctx, u.ID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		u = fresh
	}
	opts, err := r.readOptions(ctx, kind, u)
	if err == nil {
		remember(r, lists, gen, key, opts)
	}
	return opts, err
}

func (r *Reader) readOptions(ctx context.Context, kind options.Kind, u UserRow) ([]options.Option, error) {
	sys, t, err := r.facts(ctx, u.TenantID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	role, err := domain.ParseRole(u.Role)
	if err != nil {
		return nil, err
	}
	viewer := options.Viewer{UserID: u.ID, TenantID: u.TenantID, DisplayName: u.DisplayName, Email: u.Email, EmailKey: u.EmailKey, Role: role, Blocked: u.Blocked, Active: true}
	addr, name := t.SystemMailbox(sys)
	facts := options.Tenant{ID: t.ID, Policy: t.Policy(), Transport: t.Transport(sys), SystemMailboxAddress: addr, SystemMailboxName: name}
	if facts.Transport == domain.TransportNone || u.Blocked {
		return nil, nil // R1, R2, R20: nothing to read
	}
	var parked []int
	if err := r.scan(ctx, &parked, `SELECT count(*) FROM rm_users u WHERE u.id = ? AND `+parkedUser, u.ID, directoryGroup); err != nil {
		return nil, err
	}
	if parked[0] > 0 {
		return nil, nil // R35: a user with a parked event is offered nothing
	}
	// Three indexed reads: the tenant's open mailboxes, the open global
	// ones of other tenants, and the restricted ones the user's access rows
	// name (R11/R12). A mailbox reached through several grants comes once.
	var rows []struct {
		MailboxRow
		Granted bool `bun:"granted"`
	}
	const cols = `m.id, m.tenant_id, m.address, m.address_key, m.display_name, m.sender, m.reply_to, m.global, m.settings, m.grant_count, m.seq, m.restricted`
	const open = ` AND NOT ` + parkedMailbox
	const directory = directoryGroup
	err = r.scan(ctx, &rows, `SELECT `+cols+`, 0 AS granted FROM rm_mailboxes m WHERE m.tenant_id = ? AND `+openMailbox+open+`
		UNION ALL
		SELECT `+cols+`, 0 AS granted FROM rm_mailboxes m WHERE m.global = ? AND `+openMailbox+` AND m.tenant_id <> ?`+open+`
		UNION ALL
		SELECT `+cols+`, 1 AS granted FROM rm_access a JOIN rm_mailboxes m ON m.id = a.mailbox_id WHERE a.user_id = ?`+open+`
			AND NOT `+parkedGrant,
		u.TenantID, false, directory,
		true, false, u.TenantID, directory,
		u.ID, directory, directory)
	if err != nil {
		return nil, err
	}
	cs := make([]options.Candidate, 0, len(rows))
	seen := make(map[string]bool, len(rows))
	for _, m := range rows {
		if seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		cs = append(cs, options.Candidate{MailboxID: m.ID, TenantID: m.TenantID, Address: m.Address, AddressKey: m.AddressKey,
			DisplayName: m.DisplayName, Sender: m.Sender, ReplyTo: m.ReplyTo, Global: m.Global, Authenticated: m.Settings != nil,
			Restricted: m.Restricted(), Granted: m.Granted, Seq: m.Seq})
	}
	return options.Compute(kind, viewer, facts, cs), nil
}

// TokenRow is an API token without its secret.
type TokenRow struct {
	ID         string  `bun:"id"`
	UserID     *string `bun:"user_id"`
	TenantID   *string `bun:"tenant_id"`
	Role       *string `bun:"role"`
	Name       string  `bun:"name"`
	SecretHash string  `bun:"secret_hash"`
	CreatedAt  string  `bun:"created_at"`
	LastUsedAt *string `bun:"last_used_at"`
	Revoked    bool    `bun:"revoked"`
}

const tokenColumns = `id, user_id, tenant_id, role, name, secret_hash, created_at, revoked`

// TokenUsage is the token-usage store the token rows' LastUsedAt is read
// from, and the authenticator records usage in.
func (r *Reader) TokenUsage() *tokenusage.Store { return r.usage }

// withLastUsed fills the tokens' LastUsedAt from the token-usage store.
func (r *Reader) withLastUsed(ctx context.Context, rows []TokenRow) ([]TokenRow, error) {
	ids := make([]string, len(rows))
	for i, t := range rows {
		ids[i] = t.ID
	}
	used, err := r.usage.LastUsed(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for i, t := range rows {
		if at, ok := used[t.ID]; ok {
			rows[i].LastUsedAt = &at
		}
	}
	return rows, nil
}

// Token reads one token.
func (r *Reader) Token(ctx context.Context, id string) (TokenRow, error) {
	var rows []TokenRow
	if err := r.db.NewRaw(`SELECT `+tokenColumns+` FROM rm_tokens WHERE id = ?`, id).Scan(ctx, &rows); err != nil {
		return TokenRow{}, err
	}
	if len(rows) == 0 {
		return TokenRow{}, ErrNotFound
	}
	rows, err := r.withLastUsed(ctx, rows)
	if err != nil {
		return TokenRow{}, err
	}
	return rows[0], nil
}

// TokensOfUser reads a user's active tokens, oldest first.
func (r *Reader) TokensOfUser(ctx context.Context, userID string) ([]TokenRow, error) {
	var rows []TokenRow
	if err := r.db.NewRaw(`SELECT `+tokenColumns+` FROM rm_tokens WHERE user_id = ? AND revoked = ? ORDER BY created_at`, userID, false).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	return r.withLastUsed(ctx, rows)
}

// SystemTokens reads the active tokens without a user.
func (r *Reader) SystemTokens(ctx context.Context) ([]TokenRow, error) {
	var rows []TokenRow
	if err := r.db.NewRaw(`SELECT `+tokenColumns+` FROM rm_tokens WHERE user_id IS NULL AND revoked = ? ORDER BY created_at`, false).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	return r.withLastUsed(ctx, rows)
}

// AuditRow is one audit entry.
type AuditRow struct {
	Position int64   `bun:"position"`
	At       string  `bun:"at"`
	Actor    string  `bun:"actor"`
	TenantID *string `bun:"tenant_id"`
	Action   string  `bun:"action"`
	StreamID string  `bun:"stream_id"`
	Changes  string  `bun:"changes"`
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	TenantID string // empty: every tenant
	StreamID string
	Since    string // RFC 3339 in timeFormat; empty: from the start
	Until    string
	After    int64 // position cursor: oldest first, entries after it
	// NewestFirst reads newest first: After, when not 0, is then the
	// position the page goes back from.
	NewestFirst bool
}

// Audit reads up to limit entries oldest first after the cursor, or
// newest first before it.
func (r *Reader) Audit(ctx context.Context, f AuditFilter, limit int) ([]AuditRow, error) {
	where, args := f.where()
	order := "position"
	switch {
	case f.NewestFirst:
		order = "position DESC"
		if f.After > 0 {
			where = append(where, "position < ?")
			args = append(args, f.After)
		}
	default:
		where = append(where, "position > ?")
		args = append(args, f.After)
	}
	args = append(args, limit)
	var rows []AuditRow
	err := r.db.NewRaw(`SELECT position, at, actor, tenant_id, action, stream_id, changes FROM rm_audit WHERE `+
		strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, args...).Scan(ctx, &rows)
	return rows, err
}

// AuditCount counts the entries the filter keeps, cursor aside.
func (r *Reader) AuditCount(ctx context.Context, f AuditFilter) (int, error) {
	where, args := f.where()
	var n []int
	err := r.db.NewRaw(`SELECT count(*) FROM rm_audit WHERE `+strings.Join(where, " AND "), args...).Scan(ctx, &n)
	if err != nil || len(n) == 0 {
		return 0, err
	}
	return n[0], nil
}

func (f AuditFilter) where() ([]string, []any) {
	where := []string{"TRUE"}
	var args []any
	if f.TenantID != "" {
		where = append(where, "tenant_id = ?")
		args = append(args, f.TenantID)
	}
	if f.StreamID != "" {
		where = append(where, "stream_id = ?")
		args = append(args, f.StreamID)
	}
	if f.Since != "" {
		where = append(where, "at >= ?")
		args = append(args, f.Since)
	}
	if f.Until != "" {
		where = append(where, "at < ?")
		args = append(args, f.Until)
	}
	return where, args
}

// GroupsOfUsers reads the groups of many users at once (for dataloaders).
func (r *Reader) GroupsOfUsers(ctx context.Context, userIDs []string) (map[string][]GroupRow, error) {
	var rows []struct {
		UserID string `bun:"user_id"`
		GroupRow
	}
	if err := r.db.NewRaw(`SELECT m.user_id, g.id, g.tenant_id, g.name FROM rm_group_members m JOIN rm_groups g ON g.id = m.group_id
		WHERE m.user_id IN (?) ORDER BY g.seq`, bun.List(userIDs)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[string][]GroupRow, len(userIDs))
	for _, id := range userIDs {
		out[id] = []GroupRow{} // every key answered, also without groups
	}
	for _, row := range rows {
		out[row.UserID] = append(out[row.UserID], row.GroupRow)
	}
	return out, nil
}
