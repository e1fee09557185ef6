package e2e_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/database/dbtest"
	"github.com/absender/absender/server/servertest"
)

// auditCounts counts the queries that count the audit log.
type auditCounts struct{ n atomic.Int64 }

func (c *auditCounts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *auditCounts) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.Contains(ev.Query, "count(*) FROM rm_audit") {
		c.n.Add(1)
	}
}

// TestAuditTotalCountOnlyWhenAsked: the audit log grows without bound, so
// counting it (auditLog's totalCount) is work proportional to its whole
// size; it is done only when the operation selects totalCount, not for
// every page a client turns (SPEC §4 connections; R34: what a request may
// cost; review of issue 11).
func TestAuditTotalCountOnlyWhenAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var counts auditCounts
		db.Read.AddQueryHook(&counts)
		if db.Write != db.Read {
			db.Write.AddQueryHook(&counts)
		}
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
