package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/projections"
)

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	fs := newFlagSet("projections", "Rebuild read models: projections rebuild [NAME] replays the whole event log into a projection's tables\n"+
		"(all projections without NAME) and swaps the result in at once. Queries keep being answered from the old\n"+
		"state until then, also by `absender serve` processes running meanwhile; their consumers continue from the\n"+
		"rebuilt position; the projection's parked events (R35) are replayed and cleared with it.\n"+
		"projections retry-parked [NAME] re-applies the events a projection parked (R35), after a fix, in log order,\n"+
		"and clears them; an event that fails again stays parked with the later events of its stream.\n"+
		"Projections: directory, audit, messages.")
	db.register(fs)
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
	which, err := projections.ByName(projections.All(), name)
	if err != nil {
		return usageError{"projections " + fs.args[0] + ": " + err.Error()}
	}
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if fs.args[0] == "retry-parked" {
		return retryParked(ctx, srv.Store, which, stdout)
	}
	for _, p := range which {
		bar := newProgress(stderr, p.Name())
		pos, err := projections.Rebuild(ctx, srv.Store, p, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt %s up to position %s\n", p.Name(), pos)
	}
	return nil
}

// retryParked re-applies the parked events of projections (R35). It fails
// when an event fails again, after trying every projection.
func retryParked(ctx context.Context, store *eventstore.Store, which []projections.Tabled, stdout io.Writer) error {
	left := 0
	for _, p := range which {
		res, err := projections.RetryParked(ctx, store, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d parked events re-applied, %d still parked\n", p.Name(), res.Applied, res.Left)
		for _, f := range res.Failures {
			fmt.Fprintf(stdout, "  failed again: %s\n", f)
		}
		left += res.Left
	}
	if left > 0 {
		return fmt.Errorf("projections retry-parked: %d events still parked (see parkedEvents)", left)
	}
	return nil
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
