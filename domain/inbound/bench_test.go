package inbound_test

import (
	"fmt"
	"testing"

	"github.com/absender/absender/domain/inbound"
)

// BenchmarkDecide10000Accounts: decisions per second for a domain of
// 10,000 accounts, every tenth forwarding, with a catch-all (the pure
// part of routeInbound; the read-model lookup comes on top).
func BenchmarkDecide10000Accounts(b *testing.B) {
	var accounts []inbound.Account
	for i := range 10000 {
		a := inbound.Account{Address: fmt.Sprintf("user%d@celanio.com", i), KeepCopy: true}
		if i%10 == 0 {
			a.ForwardTo = []string{fmt.Sprintf("user%d@gmail.example", i)}
		}
		accounts = append(accounts, a)
	}
	f, err := inbound.NewFacts([]inbound.Domain{{Name: "celanio.com", Verified: true, CatchAll: "user1@celanio.com"}}, accounts)
	if err != nil {
		b.Fatal(err)
	}
	if cycle := inbound.Loops(f); cycle != nil {
		b.Fatalf("got loop %v, want none", cycle)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := inbound.Decide(f, fmt.Sprintf("user%d@celanio.com", i%12000), "anna@x.example"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
