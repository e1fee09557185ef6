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
	var line []byte
	var written, read int64
	last := time.Now()
	for {
		var recs []eventstore.Record
		wake := store.Notify()
		if f.Follow {
			recs, err = store.ReadAllRaw(ctx, from, 20000)
		} else {
			recs, err = store.ReadUntilRaw(ctx, from, head, 20000)
		}
		if err != nil {
			return written, err
		}
		for _, rec := range recs {
			from = rec.Position
			read++
			if !f.keep(rec) {
				continue
			}
			line = append(AppendJSON(line[:0], rec), '\n')
			if _, err := out.Write(line); err != nil {
				return written, err
			}
			written++
		}
		if progress != nil && (time.Since(last) > 200*time.Millisecond || len(recs) == 0) {
			progress(read, max(total, read))
			last = time.Now()
		}
		if len(recs) > 0 {
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
