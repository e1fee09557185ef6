package eventstore

import (
	"context"
	"database/sql"
	"sync"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// stmtCache keeps the consumers' queries prepared on SQLite. The driver
// (modernc.org/sqlite) compiles every statement it is given afresh, and a
// consumer's batch query — a few hundred bytes of SQL, the same text every
// time — is run after every commit by every consumer group: compiling it
// was about a sixth of the process's CPU under a steady stream of
// mutations (docs/BENCHMARKS.md, "Mutations"). A statement prepared on the
// database is reused by database/sql on each connection it was prepared
// on (Tx.StmtContext), so the single write connection compiles each text
// once. PostgreSQL's driver (pgx) caches its prepared statements itself.
//
// The texts are the store's own (the schema adapters' queries with their
// batch sizes), never a caller's, so the cache holds a handful of entries;
// it stops adding at maxStmts all the same.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxStmts = 64

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// in returns query's prepared statement bound to tx, or nil when it is not
// prepared yet (the caller runs the text as it is). A text seen for the
// first time is prepared in the background: the transaction holds the
// write connection (SQLite has one), so preparing on the database here
// would wait for itself.
func (c *stmtCache) in(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, seen := c.m[query]
	if !seen && len(c.m) < maxStmts {
		c.m[query] = nil // being prepared
		go c.prepare(query)
	}
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

func (c *stmtCache) prepare(query string) {
	st, err := c.db.PrepareContext(context.Background(), query)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.m, query) // tried again when next seen
		return
	}
	c.m[query] = st
}

// query runs query on tx, prepared where the cache has it.
func (c *stmtCache) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (wsql.Rows, error) {
	if st := c.in(ctx, tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// exec runs query on tx as query does.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (wsql.Result, error) {
	if st := c.in(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// stmtBeginner begins a plain consumer's transactions whose queries go
// through the store's statement cache.
type stmtBeginner struct {
	wsql.Beginner // the write pool, for anything but BeginTx
	s             *Store
}

func (b stmtBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	tx, err := b.s.db.Write.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{StdSQLTx: &wsql.StdSQLTx{Tx: tx}, c: b.s.stmts}, nil
}

// stmtTx is a plain consumer's transaction (see stmtBeginner).
type stmtTx struct {
	*wsql.StdSQLTx
	c *stmtCache
}

func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return t.c.query(ctx, t.Tx, query, args...)
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	return t.c.exec(ctx, t.Tx, query, args...)
}
