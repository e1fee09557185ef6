package saga_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/cpucost"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
	"github.com/absender/absender/transport/smtptest"
)

// BenchmarkSendToSent measures messages per second from sendMessage to
// SENT against a loopback SMTP server, next to its baseline in the same
// run: a loop sending the same messages with go-mail directly over one
// connection (direct). Report the ratio saga/direct (docs/BENCHMARKS.md).
// Both also report the CPU of one message (go-cpu-ms/op, pg-cpu-ms/op;
// the loopback SMTP server runs in this process) and the rate the
// machine's cores allow at that cost (ceiling-ops/s; internal/cpucost).
func BenchmarkSendToSent(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		srv := smtptest.Start(b, smtptest.Config{})
		c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.Port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithoutNoop())
		if err != nil {
			b.Fatal(err)
		}
		msgs := make([]*gomail.Msg, b.N)
		for i := range msgs {
			m := gomail.NewMsg()
			if err := m.From("noreply@absender.example"); err != nil {
				b.Fatal(err)
			}
			if err := m.To("bob@example.org"); err != nil {
				b.Fatal(err)
			}
			m.Subject(fmt.Sprintf("Rechnung %d", i))
			m.SetBodyString(gomail.TypeTextPlain, benchBody)
			msgs[i] = m
		}
		b.ResetTimer()
		start := time.Now()
		cpu := cpucost.Start("")
		if err := c.DialAndSend(msgs...); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		cpucost.Report(b, cpu, b.N)
	})
	dbtest.EachBench(b, benchSaga)
}

// benchWorkers is the delivery pool of the benchmark (BENCH_WORKERS).
var benchWorkers = envInt("BENCH_WORKERS", 8)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const benchBody = "Sehr geehrte Damen und Herren,\n\nanbei die Rechnung.\n\nMit freundlichen Grüßen\n"

func benchSaga(b *testing.B, db *database.DB) {
	e := newEnv(b, db, server.Options{Saga: saga.Options{Workers: benchWorkers}})
	d := message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Text: benchBody}
	// Warm up: one message through every stage.
	d.Subject = "warm-up"
	e.await(e.send(d))
	sent0 := len(e.smtp.Deliveries())
	pgName, err := cpucost.DatabaseName(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	start := time.Now()
	cpu := cpucost.Start(pgName)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				m := d
				m.Subject = fmt.Sprintf("Rechnung %d", i)
				if _, _, err := e.srv.App.Commands.Messages.Send(e.user, m, ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for len(e.smtp.Deliveries())-sent0 < b.N {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sent after 10 minutes", len(e.smtp.Deliveries())-sent0, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// SENT is recorded after the server's reply: wait for the last one.
	var sent int
	for sent < b.N+1 {
		if err := db.Read.NewRaw(`SELECT count(*) FROM rm_messages WHERE status = 'SENT'`).Scan(context.Background(), &sent); err != nil {
			b.Fatal(err)
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d SENT after 10 minutes", sent, b.N+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	cpucost.Report(b, cpu, b.N)
	b.StopTimer()
	reportStages(b, e)
}

// reportStages reports the mean time between a message's saga events:
// queued → resolved (the resolver), resolved → attempted (the workers'
// pick-up), attempted → sent (the SMTP transaction and its record).
func reportStages(b *testing.B, e *env) {
	recs, err := e.srv.Store.ReadAll(context.Background(), eventstore.Position{}, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	first := map[string]map[string]time.Time{}
	for _, r := range recs {
		if r.StreamType != string(message.StreamKind) {
			continue
		}
		m := first[r.StreamID]
		if m == nil {
			m = map[string]time.Time{}
			first[r.StreamID] = m
		}
		if _, ok := m[r.Type]; !ok {
			m[r.Type] = r.RecordedAt
		}
	}
	stages := [][2]string{{"MessageQueued", "TransportResolved"}, {"TransportResolved", "DeliveryAttempted"}, {"DeliveryAttempted", "MessageSent"}}
	for _, st := range stages {
		var sum time.Duration
		n := 0
		for _, m := range first {
			a, okA := m[st[0]]
			z, okZ := m[st[1]]
			if okA && okZ {
				sum += z.Sub(a)
				n++
			}
		}
		if n > 0 {
			b.ReportMetric(float64(sum.Milliseconds())/float64(n), "ms-"+st[1])
		}
	}
}
