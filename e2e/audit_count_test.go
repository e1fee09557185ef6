package e2e_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// queryCounts counts the queries that contain a text (case-insensitive),
// such as the count of a read model's table.
type queryCounts struct {
	text string
	n    atomic.Int64
}

func (c *queryCounts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *queryCounts) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.Contains(strings.ToLower(ev.Query), c.text) {
		c.n.Add(1)
	}
}

// countQueries counts, on both connections of db, the queries with text.
func countQueries(db *database.DB, text string) *queryCounts {
	c := &queryCounts{text: strings.ToLower(text)}
	db.Read.AddQueryHook(c)
	if db.Write != db.Read {
		db.Write.AddQueryHook(c)
	}
	return c
}

// TestAuditTotalCountOnlyWhenAsked: the audit log grows without bound, so
// counting it (auditLog's totalCount) is work proportional to its whole
// size; it is done only when the operation selects totalCount, not for
// every page a client turns (SPEC §4 connections; R34: what a request may
// cost; review of issue 11).
func TestAuditTotalCountOnlyWhenAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		counts := countQueries(db, "count(*) FROM rm_audit")
		e := &env{Instance: servertest.Start(t, db)}
		e.createTenant(t, "Audit count "+e.uniq(""))

		counts.n.Store(0)
		e.must(t, e.Auditor, `{ auditLog(first: 2){ edges { cursor } pageInfo { hasNextPage } } }`, nil, nil)
		if n := counts.n.Load(); n != 0 {
			t.Errorf("a page without totalCount counted the audit log %d times, want 0", n)
		}
		var v struct{ AuditLog struct{ TotalCount int } }
		e.must(t, e.Auditor, `{ auditLog(first: 2){ ... on AuditConnection { totalCount } } }`, nil, &v)
		if n := counts.n.Load(); n != 1 || v.AuditLog.TotalCount < 1 {
			t.Errorf("with totalCount (in a fragment): %d counts, totalCount %d; want 1 count and at least 1", n, v.AuditLog.TotalCount)
		}
	})
}

// TestMessagesTotalCountOnlyWhenAsked: the same for messages, whose table
// grows without bound too (SPEC §4 connections; R34).
func TestMessagesTotalCountOnlyWhenAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		counts := countQueries(db, "count(*) FROM rm_messages")
		e := &env{Instance: servertest.Start(t, db)}

		counts.n.Store(0)
		e.must(t, e.Auditor, `{ messages(first: 2){ edges { cursor } pageInfo { hasNextPage } } }`, nil, nil)
		if n := counts.n.Load(); n != 0 {
			t.Errorf("a page without totalCount counted the messages %d times, want 0", n)
		}
		var v struct{ Messages struct{ TotalCount int } }
		e.must(t, e.Auditor, `{ messages(first: 2){ ... on MessageConnection { totalCount } } }`, nil, &v)
		if n := counts.n.Load(); n != 1 {
			t.Errorf("with totalCount (in a fragment): %d counts, want 1", n)
		}
	})
}
