package graph

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vektah/gqlparser/v2"
)

// The complexity bound (R34) lets a page of up to 500 nodes of scalar
// fields pass, with or without at:, and refuses lists multiplied by lists
// and many replays. The queries run against the API's own schema, so a
// change of its connections shows here.
func TestCostR34(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	const scalars = `id tenantId loginName displayName email role blocked`
	page := func(n int) string { return fmt.Sprintf("first: %d", n) }
	aliases := func(n int, f string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "a%d: %s ", i, f)
		}
		return "{ " + b.String() + "}"
	}
	for _, c := range []struct {
		name string
		q    string
		pass bool
	}{
		{"a page of 500 users of scalars", `{ tenant(id: "t") { users(` + page(500) + `) { edges { cursor node { ` + scalars + ` } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } totalCount } } }`, true},
		{"a page of 500 of mailboxAccess with at:", `{ mailboxAccess(mailboxId: "m", at: "2026-01-01T00:00:00Z", ` + page(500) + `) { edges { cursor node { ` + scalars + ` } } totalCount } }`, true},
		{"a page of 500 of mailboxAccess now", `{ mailboxAccess(mailboxId: "m", ` + page(500) + `) { edges { cursor node { ` + scalars + ` } } totalCount } }`, true},
		{"a page of 500 tenants", `{ tenants(` + page(500) + `) { edges { node { id name supportAddress effectiveTransport } } } }`, true},
		{"a default page with a list per node", `{ tenant(id: "t") { users { edges { node { id groups { id name } } } } } }`, true},
		{"a page of 500 users with their groups and sender options", `{ tenant(id: "t") { users(` + page(500) + `) { edges { node { id groups { id } senderOptions { address } } } } } }`, true},
		{"first above 500 counts as 500", `{ tenant(id: "t") { users(first: 100000) { edges { node { ` + scalars + ` } } } } }`, true},
		{"1,000 aliases of senderOptions(at:)", aliases(1000, `senderOptions(userId: "u", at: "2026-01-01T00:00:00Z") { address }`), false},
		{"groups { members { groups { members } } } of 500", `{ tenant(id: "t") { groups(` + page(500) + `) { edges { node { members(` + page(500) + `) { edges { node { groups { members(` + page(500) + `) { edges { node { id } } } } } } } } } } } }`, false},
		{"a page of 500 with a list of pages per node", `{ tenant(id: "t") { users(` + page(500) + `) { edges { node { groups { members(` + page(500) + `) { edges { node { id } } } } } } } } }`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, c.q)
			if errs != nil {
				t.Fatal(errs)
			}
			got := cost(doc.Operations[0].SelectionSet, nil, false)
			if pass := got <= MaxComplexity; pass != c.pass {
				t.Fatalf("got cost %d (limit %d), want passing %v", got, MaxComplexity, c.pass)
			}
		})
	}
}

// A document whose fragments only spread other fragments (ending in an
// unknown one) counts no field however often it is expanded; counting it
// must still cost little, not 2^n (R34: one request cannot halt the
// server).
func TestSelectionsFragmentChainR34(t *testing.T) {
	var b strings.Builder
	b.WriteString("query { ...F40 }\nfragment F0 on Query { ...Unknown }\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	done := make(chan *gqlerror.Error, 1)
	go func() { done <- limits{}.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: b.String()}) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("counting the selections of 41 fragments did not finish in 2 s, want well under a second")
	}
}

// Fragment spreads count as expanded, also when the same fragment is
// spread many times (R34: aliases and repeats counted).
func TestSelectionsFragmentsCountedExpandedR34(t *testing.T) {
	var b strings.Builder
	b.WriteString("query { ...F11 }\nfragment F0 on Query { __typename }\n")
	for i := 1; i <= 11; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	err := limits{}.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: b.String()})
	if err == nil || err.Extensions["field"] != limitSelections {
		t.Fatalf("got %v, want the selections limit (2^11 fields)", err)
	}
	deep := "query { ...D }\nfragment D on Query { " + strings.Repeat("a { ", 25) + "b" + strings.Repeat(" }", 25) + " }"
	err = limits{}.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: deep})
	if err == nil || err.Extensions["field"] != limitDepth {
		t.Fatalf("got %v, want the depth limit", err)
	}
}
