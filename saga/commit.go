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
type committer struct {
	store *eventstore.Store

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
		<-j.wake
		if !j.lead {
			return j.res, j.err
		}
	}
	// j is first in the queue: write a group with it.
	group := c.take()
	// The group outlives a worker's context as an attempt does (worker.go):
	// the others wait for it.
	results, errs := c.store.AppendEach(context.WithoutCancel(ctx), guardedOf(group))
	for i, g := range group {
		g.res, g.err = results[i], errs[i]
		if g != j {
			close(g.wake)
		}
	}
	c.mu.Lock()
	if len(c.queue) > 0 {
		next := c.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		c.running = false
	}
	c.mu.Unlock()
	return j.res, j.err
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
