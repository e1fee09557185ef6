package envelope

import (
	"bufio"
	"context"
	"io"
	"time"

	"github.com/absender/absender/eventstore"
)

// Filter selects the events of an export.
type Filter struct {
	// After: only events after this global position (0: from the start).
	After int64
	// Until: only events up to and including this position (0: no bound).
	Until int64
	// Since and Until by time: recorded at or after Since, before UntilTime
	// (zero: no bound).
	Since, UntilTime time.Time
	// TenantID: only this tenant's events ("" for all).
	TenantID string
	// Follow: after the last event, wait for new ones until ctx ends.
	Follow bool
}

func (f Filter) keep(rec eventstore.Record) bool {
	switch {
	case f.Until > 0 && rec.Position.Offset > f.Until,
		!f.UntilTime.IsZero() && !rec.RecordedAt.Before(f.UntilTime),
		!f.Since.IsZero() && rec.RecordedAt.Before(f.Since),
		f.TenantID != "" && rec.Metadata.TenantID != f.TenantID:
		return false
	}
	return true
}

// pageSize is how many events one query of an export reads; pages follow
// the primary key from the last event read (eventstore.ScanUntilRaw).
const pageSize = 20000

// Export writes the envelopes of the selected events as JSON lines, in
// commit order, secrets removed. Without Follow it ends at the last event
// committed when it started; with Follow it goes on until ctx ends.
// progress, when not nil, is told how many events were read of how many.
func Export(ctx context.Context, store *eventstore.Store, w io.Writer, f Filter, progress func(read, total int64)) (int64, error) {
	from, err := store.PositionOf(ctx, f.After)
	if err != nil {
		return 0, err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	if progress != nil {
		if total, err = store.Count(ctx); err != nil {
			return 0, err
		}
	}
	out := bufio.NewWriterSize(w, 1<<16)
	var written, read, pending int64
	// write takes one event: its envelope is appended to the page's
	// buffer, the payload as the driver's bytes (json.RawMessage, never
	// decoded and encoded again unless it holds a secret; see AppendJSON).
	// The page goes to w only after its read ended, so a slow reader of
	// the export never holds a read of the database open.
	var page []byte
	write := func(rec *eventstore.Record) error {
		from = rec.Position
		read++
		if !f.keep(*rec) {
			return nil
		}
		page = append(AppendJSON(page, *rec), '\n')
		pending++
		return nil
	}
	last := time.Now()
	for {
		var n int
		wake := store.Notify()
		if f.Follow {
			n, err = store.ScanAllRaw(ctx, from, pageSize, write)
		} else {
			n, err = store.ScanUntilRaw(ctx, from, head, pageSize, write)
		}
		if err != nil {
			return written, err
		}
		if _, err := out.Write(page); err != nil {
			return written, err
		}
		written, pending, page = written+pending, 0, page[:0]
		if progress != nil && (time.Since(last) > 200*time.Millisecond || n == 0) {
			progress(read, max(total, read))
			last = time.Now()
		}
		if n > 0 {
			continue
		}
		if err := out.Flush(); err != nil {
			return written, err
		}
		if !f.Follow {
			return written, nil
		}
		select {
		case <-ctx.Done():
			return written, nil
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}
