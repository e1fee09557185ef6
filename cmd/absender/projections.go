package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
)

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	var brokerURL string
	fs := newFlagSet("projections", "Rebuild read models: projections rebuild [NAME] replays the whole event log into a projection's tables\n"+
		"(all projections without NAME) and swaps the result in at once. Queries keep being answered from the old\n"+
		"state until then, also by `absender serve` processes running meanwhile; their consumers continue from the\n"+
		"rebuilt position; the projection's parked events (R35) are replayed and cleared with it. An event the\n"+
		"rebuild cannot apply is parked, with the later events of its stream, and the command exits non-zero.\n"+
		"Projections: directory, audit, messages.\n\n"+
		"projections retry-parked [NAME] re-applies the events a consumer group parked (R35), after a fix, in log\n"+
		"order, and clears each one that was applied; an event that fails again stays parked with the later events\n"+
		"of its stream. NAME is a projection, "+saga.ConsumerGroup+" (the send saga's resolver: the message is resolved, with\n"+
		"the key ring serve uses, and the serve processes send it) or "+fanout.DefaultConsumerGroup+" (the NATS fan-out: the\n"+
		"events are published to the broker of --broker-url, the setting serve uses; without it they stay parked);\n"+
		"without NAME, every projection and every group with parked events. Exits non-zero while events stay parked.")
	db.register(fs)
	fs.StringVar(&brokerURL, "broker-url", "", "for retry-parked of the fan-out's group "+fanout.DefaultConsumerGroup+
		": the NATS JetStream to publish to, as for serve, e.g. nats://127.0.0.1:4222")
	fs.settings("broker-url")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) < 1 || len(fs.args) > 2 || (fs.args[0] != "rebuild" && fs.args[0] != "retry-parked") {
		return usageError{"projections: say rebuild [NAME] or retry-parked [NAME] (see absender projections --help)"}
	}
	name := ""
	if len(fs.args) == 2 {
		name = fs.args[1]
	}
	if brokerURL != "" {
		if err := fanout.ValidateURL(brokerURL); err != nil {
			return usageError{fmt.Sprintf("--broker-url (ABSENDER_BROKER_URL): %v", err)}
		}
	}
	var groups retryGroups
	switch {
	case fs.args[0] == "retry-parked" && name == saga.ConsumerGroup:
		groups.saga = true
	case fs.args[0] == "retry-parked" && name == fanout.DefaultConsumerGroup:
		if brokerURL == "" {
			return usageError{"projections retry-parked " + name + ": the fan-out's parked events are published to the broker: " +
				"give --broker-url (ABSENDER_BROKER_URL), the NATS URL serve uses"}
		}
		groups.broker = true
	default:
		which, err := projections.ByName(projections.All(), name)
		if err != nil {
			if fs.args[0] == "retry-parked" {
				err = fmt.Errorf("%w, or the groups %s and %s", err, saga.ConsumerGroup, fanout.DefaultConsumerGroup)
			}
			return usageError{"projections " + fs.args[0] + ": " + err.Error()}
		}
		groups.projections = which
		groups.saga, groups.broker = name == "" || name == "all", name == "" || name == "all"
	}
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if fs.args[0] == "retry-parked" {
		return retryParked(ctx, srv, db, groups, brokerURL, stdout)
	}
	parked := 0
	for _, p := range groups.projections {
		bar := newProgress(stderr, p.Name())
		res, err := projections.Rebuild(ctx, srv.Store, p, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt %s up to position %s, %d events parked\n", p.Name(), res.Position, res.Parked)
		for _, f := range res.Failures {
			fmt.Fprintf(stdout, "  parked: %s\n", f)
		}
		parked += res.Parked
	}
	if parked > 0 {
		// As retry-parked: done, but not everything applied (R35).
		return fmt.Errorf("projections rebuild: %d events parked; after a fix, run absender projections retry-parked", parked)
	}
	return nil
}

// retryGroups are the consumer groups whose parked events retry-parked
// re-applies: projections always, the saga and the fan-out when they have
// parked events.
type retryGroups struct {
	projections  []projections.Tabled
	saga, broker bool
}

// retryParked re-applies the parked events of groups (R35). It fails when
// an event fails again, or when the fan-out's are left for want of a
// broker, after trying every group.
func retryParked(ctx context.Context, srv *server.Server, db dbConfig, groups retryGroups, brokerURL string, stdout io.Writer) error {
	counts, err := srv.Store.ParkedCounts(ctx)
	if err != nil {
		return err
	}
	left := 0
	report := func(group string, res eventstore.Retried) {
		fmt.Fprintf(stdout, "%s: %d parked events re-applied, %d still parked\n", group, res.Applied, res.Left)
		for _, f := range res.Failures {
			fmt.Fprintf(stdout, "  failed again: %s\n", f)
		}
		left += res.Left
	}
	for _, p := range groups.projections {
		res, err := projections.RetryParked(ctx, srv.Store, p)
		if err != nil {
			return err
		}
		report(p.Name(), res)
	}
	if groups.saga && counts[saga.ConsumerGroup] == 0 && len(groups.projections) == 0 {
		report(saga.ConsumerGroup, eventstore.Retried{}) // nothing to do: no key ring needed
	} else if groups.saga && counts[saga.ConsumerGroup] > 0 {
		a, err := db.sagaApp(srv.Database(), srv.Store)
		if err != nil {
			return err
		}
		opt := sagaOptions(0)
		opt.App, opt.Store, opt.DB = app.NewSagaPort(a), srv.Store, srv.Database()
		res, err := saga.RetryParked(ctx, opt)
		if err != nil {
			return fmt.Errorf("projections retry-parked %s (%d re-applied, the rest stay parked): %w", saga.ConsumerGroup, res.Applied, err)
		}
		report(saga.ConsumerGroup, res)
	}
	var noBroker error
	if groups.broker && counts[fanout.DefaultConsumerGroup] == 0 && len(groups.projections) == 0 {
		report(fanout.DefaultConsumerGroup, eventstore.Retried{}) // nothing to do: no broker needed
	} else if groups.broker && counts[fanout.DefaultConsumerGroup] > 0 {
		if brokerURL == "" {
			n := counts[fanout.DefaultConsumerGroup]
			fmt.Fprintf(stdout, "%s: %d parked events not re-applied: no --broker-url\n", fanout.DefaultConsumerGroup, n)
			noBroker = fmt.Errorf("projections retry-parked: the %d parked events of the fan-out (%s) are published to the broker: "+
				"give --broker-url (ABSENDER_BROKER_URL), the NATS URL serve uses", n, fanout.DefaultConsumerGroup)
		} else {
			fwd, err := fanout.New(srv.Store, fanout.Config{URL: brokerURL, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return usageError{fmt.Sprintf("--broker-url (ABSENDER_BROKER_URL): %v", err)}
			}
			res, err := fwd.RetryParked(ctx)
			if err != nil {
				return fmt.Errorf("projections retry-parked %s (%d re-applied, the rest stay parked): %w", fwd.ConsumerGroup(), res.Applied, err)
			}
			report(fwd.ConsumerGroup(), res)
		}
	}
	if left > 0 {
		return errors.Join(fmt.Errorf("projections retry-parked: %d events still parked (see parkedEvents)", left), noBroker)
	}
	return noBroker
}

// sagaApp is the command layer whose message area the saga's resolver
// reads through its port: it needs the key ring, as serve does (the
// resolution itself reads no secret).
func (c dbConfig) sagaApp(conn *database.DB, store *eventstore.Store) (*app.App, error) {
	ring, err := c.keyring(conn)
	if err != nil {
		return nil, fmt.Errorf("projections retry-parked %s: the send saga needs the key ring serve uses: %w", saga.ConsumerGroup, err)
	}
	cfg := appConfig(0)
	cfg.Store, cfg.Keyring = store, ring
	cfg.Reader = projections.NewReader(conn.Read, store.Generation)
	if cfg.Content, err = content.New(conn.Read, ring); err != nil {
		return nil, err
	}
	return app.New(cfg)
}

// progress shows events done / total, rate and ETA: one redrawn line on a
// terminal, a log line every few seconds otherwise.
type progress struct {
	w        io.Writer
	name     string
	terminal bool
	start    time.Time
	lastLine time.Time
	drawn    bool
	complete bool
}

func newProgress(w io.Writer, name string) *progress {
	p := &progress{w: w, name: name, start: time.Now()}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.terminal = true
	}
	return p
}

func (p *progress) update(done, total int64) {
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	eta := "?"
	if rate > 0 && total >= done {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if p.terminal {
		const width = 30
		filled := int(pct / 100 * width)
		bar := ""
		for i := range width {
			if i < filled {
				bar += "█"
			} else {
				bar += "░"
			}
		}
		fmt.Fprintf(p.w, "\r%-10s %s %5.1f%%  %d/%d events  %.0f/s  ETA %s   ", p.name, bar, pct, done, total, rate, eta)
		p.drawn = true
		return
	}
	if time.Since(p.lastLine) >= 5*time.Second || (done == total && !p.complete) {
		p.complete = done == total
		fmt.Fprintf(p.w, "rebuild %s: %d/%d events (%.1f%%), %.0f events/s, ETA %s\n", p.name, done, total, pct, rate, eta)
		p.lastLine = time.Now()
	}
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
