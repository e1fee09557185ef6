package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/absender/absender/projections"
)

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db dbConfig
	fs := newFlagSet("projections", "Rebuild read models: projections rebuild [NAME] replays the whole event log into a projection's tables\n"+
		"(all projections without NAME) and swaps the result in at once. Queries keep being answered from the old\n"+
		"state until then, also by `absender serve` processes running meanwhile; their consumers continue from the\n"+
		"rebuilt position. Projections: directory, audit.")
	db.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(fs.args) < 1 || len(fs.args) > 2 || fs.args[0] != "rebuild" {
		return usageError{"projections: say rebuild [NAME] (see absender projections --help)"}
	}
	name := ""
	if len(fs.args) == 2 {
		name = fs.args[1]
	}
	which, err := projections.ByName(projections.All(), name)
	if err != nil {
		return usageError{"projections rebuild: " + err.Error()}
	}
	srv, closeDB, err := db.server(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
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
