package app

import (
	"container/list"
	"context"
	"strings"
	"sync"

	"github.com/absender/absender/eventstore"
)

// streamCache keeps the records of recently loaded configuration streams
// (system, tenants, users, groups, mailboxes, tokens), so loading an
// aggregate reads only the events after the version it remembers — one
// indexed query that usually returns nothing — instead of the whole
// stream again (issue 13 item 2: a mailbox renamed a thousand times was
// read a thousand events deep on every command).
//
// It can never answer with a stale stream: every load still asks the
// store for the events after the cached version, so an append by another
// command, Store or process is read before the state is rebuilt, and the
// append's expected version (the version loaded) refuses a decision on a
// state that changed in between. Events are immutable and a stream's
// versions have no gaps, so a cached prefix stays true forever; a
// database restored to an older state under a running server is the one
// case it cannot see, as any process memory cannot.
//
// It is bounded by the number of records it holds (least recently used
// streams go first) and shares records between loads: callers must not
// change a record or an event in one.
type streamCache struct {
	max int // records

	mu      sync.Mutex
	n       int
	lru     *list.List // of *cachedStream, most recently used first
	streams map[string]*list.Element
}

type cachedStream struct {
	id   string
	recs []eventstore.Record
}

func newStreamCache(maxRecords int) *streamCache {
	return &streamCache{max: maxRecords, lru: list.New(), streams: map[string]*list.Element{}}
}

// defaultCachedRecords bounds the cache: about 10–20 MB of records.
const defaultCachedRecords = 20000

// cacheable says which streams the cache keeps: configuration aggregates,
// read again and again by commands and authorization. A message's stream
// is read a few times in its life and its events hold slices, so it is
// always read from the store.
func cacheable(streamID string) bool {
	return !strings.HasPrefix(streamID, "message-")
}

// get returns the cached records of a stream (nil when none); the slice
// has no spare capacity, so appending to it copies.
func (c *streamCache) get(id string) []eventstore.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.streams[id]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	recs := e.Value.(*cachedStream).recs
	return recs[:len(recs):len(recs)]
}

// put remembers recs as a stream's records unless the cache already
// holds a later version (a concurrent load that read more).
func (c *streamCache) put(id string, recs []eventstore.Record) {
	if len(recs) == 0 || len(recs) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.streams[id]; ok {
		s := e.Value.(*cachedStream)
		if len(s.recs) >= len(recs) {
			return
		}
		c.n += len(recs) - len(s.recs)
		s.recs = recs
		c.lru.MoveToFront(e)
	} else {
		c.streams[id] = c.lru.PushFront(&cachedStream{id: id, recs: recs})
		c.n += len(recs)
	}
	for c.n > c.max {
		last := c.lru.Back()
		s := last.Value.(*cachedStream)
		c.lru.Remove(last)
		delete(c.streams, s.id)
		c.n -= len(s.recs)
	}
}

// load returns a stream's records: the cached ones and every event the
// store has after them.
func (c *streamCache) load(ctx context.Context, store *eventstore.Store, id string) ([]eventstore.Record, error) {
	if c == nil || !cacheable(id) {
		return store.Load(ctx, id)
	}
	old := c.get(id)
	fresh, err := store.LoadFrom(ctx, id, version(old))
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return old, nil
	}
	if fresh[0].Version != version(old)+1 {
		// Cannot happen (versions have no gaps); read it all rather than
		// trust a prefix that does not fit.
		recs, err := store.Load(ctx, id)
		if err == nil {
			c.put(id, recs)
		}
		return recs, err
	}
	recs := append(old, fresh...)
	c.put(id, recs)
	return recs, nil
}
