// Package inbound answers R30's question "what happens to mail for this
// address" and R28's "would this change make a forwarding loop", as pure
// functions over a snapshot of the routing facts (the read models' mail
// domains and accounts). The data plane's behaviour must agree with
// Decide.
package inbound

import (
	"fmt"
	"slices"
	"strings"

	"github.com/absender/absender/domain"
)

// Action is what happens to a message for a recipient (the contract's InboundAction).
type Action string

// The actions of R30.
const (
	Deliver  Action = "DELIVER"
	Forward  Action = "FORWARD"
	CatchAll Action = "CATCH_ALL"
	Reject   Action = "REJECT"
)

// Domain is a mail domain of Absender as the routing sees it.
type Domain struct {
	Name        string // any form; IDNA-normalised by NewFacts
	Verified    bool
	Maintenance bool
	CatchAll    string // target address, "" when none
}

// Account is a hosted account as the routing sees it.
type Account struct {
	Address   string
	ForwardTo []string
	KeepCopy  bool
}

// Facts is a snapshot of the routing facts, indexed. Build it with NewFacts.
type Facts struct {
	domains  map[string]domainFacts  // ASCII name →
	accounts map[string]accountFacts // address key →
}

type domainFacts struct {
	Domain
	catchAll domain.Address
}

type accountFacts struct {
	address  domain.Address
	forwards []domain.Address
	keepCopy bool
}

// NewFacts indexes domains and accounts; an invalid name or address is
// an error naming it (the read models hold only valid ones).
func NewFacts(domains []Domain, accounts []Account) (*Facts, error) {
	f := &Facts{domains: map[string]domainFacts{}, accounts: map[string]accountFacts{}}
	for _, d := range domains {
		ascii, _, err := domain.NormalizeDomain("domain", d.Name)
		if err != nil {
			return nil, fmt.Errorf("inbound facts: domain %q: %w", d.Name, err)
		}
		df := domainFacts{Domain: d}
		if d.CatchAll != "" {
			if df.catchAll, err = domain.NormalizeAddress(d.CatchAll); err != nil {
				return nil, fmt.Errorf("inbound facts: catch-all of %s: %w", ascii, err)
			}
		}
		f.domains[ascii] = df
	}
	for _, a := range accounts {
		addr, err := domain.NormalizeAddress(a.Address)
		if err != nil {
			return nil, fmt.Errorf("inbound facts: account %q: %w", a.Address, err)
		}
		af := accountFacts{address: addr, keepCopy: a.KeepCopy}
		for _, t := range a.ForwardTo {
			ta, err := domain.NormalizeAddress(t)
			if err != nil {
				return nil, fmt.Errorf("inbound facts: forward of %s: %w", addr, err)
			}
			af.forwards = append(af.forwards, ta)
		}
		f.accounts[addr.Key()] = af
	}
	return f, nil
}

// Decision explains what happens to mail for a recipient (the contract's
// InboundDecision without the auto-reply, which package account decides).
type Decision struct {
	Action    Action
	Account   string   // the account's address (DELIVER, FORWARD), or the catch-all target (CATCH_ALL) when it is an account
	ForwardTo []string // FORWARD: the targets; CATCH_ALL: the catch-all target
	KeepCopy  bool     // FORWARD: a copy stays in the account
	// ForwardDomain is the ASCII domain an SRS0 envelope sender is made in
	// (R28): the forwarding account's domain, "" when nothing leaves for
	// another domain.
	ForwardDomain string
	SMTPCode      int    // 250, 450 or 550
	Status        string // enhanced status code: 2.1.5, 4.7.1, 5.1.1
	Reason        string
}

// Decide decides for recipient and envelope sender (R30): an account
// receives (DELIVER) or forwards (FORWARD, with keep copy); an unknown
// local part goes to the domain's catch-all (CATCH_ALL) or is refused
// "550 5.1.1"; a domain that is not verified answers "450 4.7.1"; a
// domain Absender does not host is "550 5.1.1" too. Maintenance (R32)
// changes nothing: the domain still receives mail. The sender is checked
// (a valid address, or empty for a bounce) but does not change the
// decision. Errors are INVALID_INPUT naming recipient or sender.
func Decide(f *Facts, recipient, sender string) (Decision, error) {
	rcpt, err := domain.NormalizeAddress(recipient)
	if err != nil {
		return Decision{}, domain.WithField(err, "recipient")
	}
	if s := strings.TrimSpace(sender); s != "" && s != "<>" {
		if _, err := domain.NormalizeAddress(sender); err != nil {
			return Decision{}, domain.WithField(err, "sender")
		}
	}
	d, ok := f.domains[rcpt.Domain()]
	switch {
	case !ok:
		return reject(550, "5.1.1", rcpt.Domain()+" is not a mail domain of Absender"), nil
	case !d.Verified:
		return reject(450, "4.7.1", rcpt.Domain()+" is not verified yet"), nil
	}
	if a, ok := f.accounts[rcpt.Key()]; ok {
		if len(a.forwards) == 0 {
			return Decision{Action: Deliver, Account: a.address.String(), KeepCopy: true, SMTPCode: 250, Status: "2.1.5",
				Reason: "delivered to the account " + a.address.String()}, nil
		}
		dec := Decision{Action: Forward, Account: a.address.String(), KeepCopy: a.keepCopy, SMTPCode: 250, Status: "2.1.5"}
		for _, t := range a.forwards {
			dec.ForwardTo = append(dec.ForwardTo, t.String())
			if _, own := f.domains[t.Domain()]; !own {
				dec.ForwardDomain = a.address.Domain()
			}
		}
		dec.Reason = fmt.Sprintf("forwarded to %s", strings.Join(dec.ForwardTo, ", "))
		if a.keepCopy {
			dec.Reason += ", a copy kept in the account"
		}
		return dec, nil
	}
	if !d.catchAll.IsZero() {
		dec := Decision{Action: CatchAll, ForwardTo: []string{d.catchAll.String()}, SMTPCode: 250, Status: "2.1.5",
			Reason: "unknown local part, delivered to the catch-all " + d.catchAll.String()}
		if a, ok := f.accounts[d.catchAll.Key()]; ok {
			dec.Account = a.address.String()
		}
		if _, own := f.domains[d.catchAll.Domain()]; !own {
			dec.ForwardDomain = rcpt.Domain()
		}
		return dec, nil
	}
	return reject(550, "5.1.1", "no account "+rcpt.String()), nil
}

func reject(code int, status, reason string) Decision {
	return Decision{Action: Reject, SMTPCode: code, Status: status, Reason: reason}
}

// Loops finds a forwarding loop among Absender's own addresses (R28):
// a cycle of accounts' forwards and catch-alls (an address of a hosted
// domain without an account goes to the domain's catch-all). It returns
// the cycle as address keys, first and last the same, or nil. The result
// is deterministic: the cycle found first in key order.
func Loops(f *Facts) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(key string) []string
	visit = func(key string) []string {
		switch state[key] {
		case onPath:
			i := slices.Index(path, key)
			return append(slices.Clone(path[i:]), key)
		case done:
			return nil
		}
		state[key] = onPath
		path = append(path, key)
		for _, next := range f.next(key) {
			if cycle := visit(next); cycle != nil {
				return cycle
			}
		}
		path = path[:len(path)-1]
		state[key] = done
		return nil
	}
	starts := make([]string, 0, len(f.accounts)+len(f.domains))
	for k := range f.accounts {
		starts = append(starts, k)
	}
	for _, d := range f.domains {
		if !d.catchAll.IsZero() {
			starts = append(starts, d.catchAll.Key())
		}
	}
	slices.Sort(starts)
	for _, k := range starts {
		if cycle := visit(k); cycle != nil {
			return cycle
		}
	}
	return nil
}

// next are the own addresses mail for key goes on to: an account's
// forwards, or the catch-all of a hosted domain for an address without
// an account; nothing for an external address.
func (f *Facts) next(key string) []string {
	if a, ok := f.accounts[key]; ok {
		keys := make([]string, len(a.forwards))
		for i, t := range a.forwards {
			keys[i] = t.Key()
		}
		return keys
	}
	at := strings.LastIndexByte(key, '@')
	if d, ok := f.domains[key[at+1:]]; ok && !d.catchAll.IsZero() {
		return []string{d.catchAll.Key()}
	}
	return nil
}

// CheckNoLoop is Loops as the error a refused change returns (R28):
// INVALID_INPUT naming field, the loop in the message.
func CheckNoLoop(f *Facts, field string) error {
	if cycle := Loops(f); cycle != nil {
		return domain.InvalidInput(field, "would make a forwarding loop: "+strings.Join(cycle, " → "))
	}
	return nil
}
