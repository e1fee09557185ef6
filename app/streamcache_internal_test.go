package app

import (
	"fmt"
	"testing"

	"github.com/absender/absender/eventstore"
)

func records(n int) []eventstore.Record {
	out := make([]eventstore.Record, n)
	for i := range out {
		out[i].Version = int64(i + 1)
	}
	return out
}

// The stream cache is bounded by the records it holds: the least recently
// used streams go first, a stream larger than the bound is not kept, and
// a shorter (older) load never replaces a longer one.
func TestStreamCacheBounded(t *testing.T) {
	c := newStreamCache(10)
	for i := range 5 {
		c.put(fmt.Sprintf("user-%d", i), records(3))
	}
	if c.n > 10 {
		t.Errorf("got %d records held, want at most 10", c.n)
	}
	if got := c.get("user-0"); got != nil {
		t.Errorf("got %d records of the least recently used stream, want it evicted", len(got))
	}
	if got := c.get("user-4"); len(got) != 3 {
		t.Errorf("got %d records of the newest stream, want 3", len(got))
	}
	c.put("user-4", records(2))
	if got := c.get("user-4"); len(got) != 3 {
		t.Errorf("got %d records after an older load, want the later 3 kept", len(got))
	}
	c.put("tenant-big", records(11))
	if got := c.get("tenant-big"); got != nil {
		t.Errorf("got a stream larger than the bound cached")
	}
	if got := c.get("user-4"); cap(got) != len(got) {
		t.Errorf("got cap %d for len %d, want no spare capacity (an append must copy)", cap(got), len(got))
	}
	if cacheable("message-1") {
		t.Errorf("got a message stream cacheable, want it read from the store")
	}
}
