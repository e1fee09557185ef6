package saga

import (
	"context"
	"sync"

	"github.com/absender/absender/eventstore"
)

// groupMax bounds the appends of one group commit.
const groupMax = 64

// committer gathers the appends of the delivery workers — each attempt's
// record (DeliveryAttempted, with the configuration it was checked
// against) and each outcome — and writes what has gathered in one group
// (eventstore.AppendEach: on PostgreSQL one statement and one commit),
// each append checked on its own, so one conflict does not fail the
// others. There is no goroutine and no timer: the first worker to find
// no group under way writes the group (its own append first) and then
// hands the next group, gathered meanwhile, to the first worker waiting
// in it; a worker alone is written at once.
//
// Crash safety (R23) is that of a single append: a worker waits for its
// append's commit before it sends, so a crash with a group half gathered
// loses only records nobody acted on, and a group just committed is as
// any committed attempt: the message resumes from it after a restart.
//
// Nobody waits for ever: the writer of a group wakes its members and
// hands the lead on however its write ends (a panic of the write is an
// error for each member), and a worker whose context ends while its
// append still waits in the queue takes it out and returns; once its
// append is in a group being written, it waits for that write, which
// outlives contexts as an attempt does (worker.go).
type committer struct {
	store *eventstore.Store
	// appendEach is store.AppendEach; tests replace it to inject faults.
	appendEach func(ctx context.Context, each []eventstore.Guarded) ([]eventstore.AppendResult, []error)

	mu      sync.Mutex
	queue   []*commitJob
	running bool // a worker is writing a group
}

// commitJob is one worker's append, waiting in the queue.
type commitJob struct {
	guarded eventstore.Guarded
	// wake is closed when the job is done (res, err) or when its worker
	// is to write the next group (lead).
	wake chan struct{}
	lead bool
	res  eventstore.AppendResult
	err  error
}

// append appends a with unchanged required as eventstore.AppendIf does,
// in the next group commit (at once where the store has no group commit).
func (c *committer) append(ctx context.Context, unchanged map[string]int64, a eventstore.StreamAppend) (eventstore.AppendResult, error) {
	if !c.store.GroupCommits() {
		// Nothing to gain by waiting for others (SQLite: one writer
		// connection, one append after the other anyway).
		return c.store.AppendIf(ctx, unchanged, a)
	}
	j := &commitJob{guarded: eventstore.Guarded{Unchanged: unchanged, Appends: []eventstore.StreamAppend{a}}, wake: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, j)
	lead := !c.running // nothing under way: the queue held nothing but j
	c.running = true
	c.mu.Unlock()
	if !lead {
		select {
		case <-j.wake:
		case <-ctx.Done():
			if c.leave(j) {
				return eventstore.AppendResult{}, ctx.Err()
			}
			<-j.wake // in a group being written, or just made its writer
		}
		if !j.lead {
			return j.res, j.err
		}
	}
	// j is first in the queue: write a group with it.
	c.write(ctx, j)
	return j.res, j.err
}

// write takes the next group from the queue, j's worker's, and appends
// it; then it wakes the group's other workers and hands the lead on to
// the first worker waiting, or ends the run. Both happen however the
// write ends: a panic is an error for each member (and is not passed
// on: every member learns of it), so no worker waits for ever for a
// writer that is gone.
func (c *committer) write(ctx context.Context, j *commitJob) {
	var group []*commitJob
	defer func() {
		c.mu.Lock()
		if len(c.queue) > 0 {
			next := c.queue[0]
			next.lead = true
			close(next.wake)
		} else {
			c.running = false
		}
		c.mu.Unlock()
	}()
	defer func() {
		v := recover()
		if v != nil {
			j.res, j.err = eventstore.AppendResult{}, &eventstore.PanicError{Where: "saga group commit", Value: v}
		}
		for _, g := range group {
			if g == j {
				continue // the writer: not waiting
			}
			if v != nil {
				g.res, g.err = j.res, j.err
			}
			close(g.wake)
		}
	}()
	group = c.take()
	appendEach := c.appendEach
	if appendEach == nil {
		appendEach = c.store.AppendEach
	}
	// The group outlives a worker's context as an attempt does (worker.go):
	// the others wait for it.
	results, errs := appendEach(context.WithoutCancel(ctx), guardedOf(group))
	for i, g := range group {
		g.res, g.err = results[i], errs[i]
	}
}

// leave takes j out of the queue, where it waited for a group, and says
// whether it was there; it was not when it is in a group being written
// or is to write the next group (lead), and then j's worker must go on
// waiting for its wake.
func (c *committer) leave(j *commitJob) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j.lead {
		return false
	}
	for i, q := range c.queue {
		if q == j {
			c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
			return true
		}
	}
	return false
}

// take removes the next group from the queue: at most groupMax appends,
// from the first on, no two of them to the same stream (a second append to
// a stream waits for the next group, after the first's commit).
func (c *committer) take() []*commitJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	var group, rest []*commitJob
	streams := map[string]bool{}
	for _, j := range c.queue {
		id := j.guarded.Appends[0].StreamID
		if len(group) == groupMax || streams[id] {
			rest = append(rest, j)
			continue
		}
		streams[id] = true
		group = append(group, j)
	}
	c.queue = rest
	return group
}

func guardedOf(group []*commitJob) []eventstore.Guarded {
	out := make([]eventstore.Guarded, len(group))
	for i, j := range group {
		out[i] = j.guarded
	}
	return out
}
