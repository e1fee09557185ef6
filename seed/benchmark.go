package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
)

// Sizes of the benchmark tenant.
type Sizes struct {
	Users     int
	Mailboxes int
	Grants    int // user grants; about 1 % more are group grants
	Groups    int
}

// BenchmarkSizes is the tenant of issue 3's benchmark.
var BenchmarkSizes = Sizes{Users: 10000, Mailboxes: 2000, Grants: 50000, Groups: 200}

// Tenant is what Benchmark made.
type Tenant struct {
	ID        string
	Users     []string
	Mailboxes []string
	Groups    []string
}

// Benchmark builds one tenant of the given sizes through the command layer
// with a few workers: users (every 10th external), groups of 50 members,
// mailboxes (every 5th authenticated, a few global, most restricted by
// grants) and random distinct user grants plus group grants. progress, when
// not nil, is told how many commands are done.
func Benchmark(ctx context.Context, svc *app.App, sz Sizes, workers int, progress func(done int64)) (Tenant, error) {
	ctx = AsSystem(ctx)
	if workers <= 0 {
		workers = 8
	}
	var done atomic.Int64
	tick := func() {
		if n := done.Add(1); progress != nil && n%1000 == 0 {
			progress(n)
		}
	}
	if _, err := svc.Commands.System.ConfigureServer(ctx, app.ServerSettingsInput{Host: ptr("smtp.example.com"), Encryption: "STARTTLS",
		Auth: "PASSWORD", Username: ptr("mailer"), Password: ptr("s3cret"), SenderAddress: "noreply@example.com", SenderName: ptr("Example")}); err != nil {
		return Tenant{}, err
	}
	id, _, err := svc.Commands.Tenants.Create(ctx, "Benchmark GmbH")
	if err != nil {
		return Tenant{}, err
	}
	t := Tenant{ID: id}
	if _, err := svc.Commands.Tenants.SetPolicy(ctx, id, tenant.PolicyChange{MailboxQuota: ptr(sz.Mailboxes + 10), UserAddressAsSender: ptr(true)}); err != nil {
		return Tenant{}, err
	}
	t.Users = make([]string, sz.Users)
	if err := parallel(ctx, workers, sz.Users, func(i int) error {
		role := domain.RoleEmployee
		if i%10 == 9 {
			role = domain.RoleExternal
		}
		uid, _, err := svc.Commands.Users.Create(ctx, id, fmt.Sprintf("bench-%s-%d", id[len(id)-6:], i), fmt.Sprintf("User %05d", i),
			fmt.Sprintf("user%d@bench.example", i), role)
		t.Users[i] = uid
		tick()
		return err
	}); err != nil {
		return Tenant{}, err
	}
	for i := range sz.Groups {
		gid, _, err := svc.Commands.Groups.Create(ctx, id, fmt.Sprintf("Group %d", i))
		if err != nil {
			return Tenant{}, err
		}
		t.Groups = append(t.Groups, gid)
		tick()
	}
	if err := parallel(ctx, workers, len(t.Groups)*50, func(i int) error {
		_, err := svc.Commands.Groups.AddMember(ctx, t.Groups[i%len(t.Groups)], t.Users[(i*7919)%len(t.Users)])
		tick()
		return err
	}); err != nil {
		return Tenant{}, err
	}
	// Mailboxes share the tenant stream (R9/R10), so they go one by one.
	for i := range sz.Mailboxes {
		in := app.AddMailboxInput{Address: fmt.Sprintf("box%d@bench.example", i), DisplayName: fmt.Sprintf("Mailbox %04d", i),
			Sender: true, ReplyTo: i%2 == 0, Global: i%500 == 0}
		if i%5 == 0 {
			in.Settings = &app.ServerSettingsInput{Host: ptr("smtp.bench.example"), Encryption: "TLS", Auth: "PASSWORD",
				Username: ptr(in.Address), Password: ptr("pw"), SenderAddress: in.Address}
		}
		mid, _, err := svc.Commands.Mailboxes.Add(ctx, id, in)
		if err != nil {
			return Tenant{}, err
		}
		t.Mailboxes = append(t.Mailboxes, mid)
		tick()
	}
	rnd := rand.New(rand.NewPCG(42, 42))
	type pair struct{ m, u int }
	seen := map[pair]bool{}
	pairs := make([]pair, 0, sz.Grants)
	for len(pairs) < sz.Grants && len(t.Mailboxes) > 0 {
		p := pair{rnd.IntN(len(t.Mailboxes)), rnd.IntN(len(t.Users))}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	if err := parallel(ctx, workers, len(pairs), func(i int) error {
		_, err := svc.Commands.Mailboxes.GrantUser(ctx, t.Mailboxes[pairs[i].m], t.Users[pairs[i].u])
		tick()
		return err
	}); err != nil {
		return Tenant{}, err
	}
	groupGrants := min(len(t.Groups)*3, len(t.Mailboxes))
	if err := parallel(ctx, workers, groupGrants, func(i int) error {
		_, err := svc.Commands.Mailboxes.GrantGroup(ctx, t.Mailboxes[(i*31)%len(t.Mailboxes)], t.Groups[i%len(t.Groups)])
		tick()
		return err
	}); err != nil {
		return Tenant{}, err
	}
	return t, nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(<-errs, ctx.Err())
}
