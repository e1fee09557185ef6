package history

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/eventstore"
)

// Service replays tenants' histories.
type Service struct {
	store *eventstore.Store
	// Every is how many events a replay reads between two snapshots.
	every int
	// BeforeRead, when set, is called before each batch a replay reads
	// (tests hold a replay there; set it before the service is used).
	BeforeRead func(ctx context.Context)

	mu    sync.Mutex
	snaps map[string][]snapshot // tenant → ascending by position
}

// snapshot is a tenant's model after every event up to pos, all of them
// recorded at or before last.
type snapshot struct {
	pos   eventstore.Position
	last  time.Time
	model *Model
}

// AllTenants asks At for the whole system (a global mailbox's users are of
// every tenant, R12).
const AllTenants = "*"

// maxSkew is how far past the asked time a replay keeps reading: events
// are read in commit order, and the time an event was recorded may run a
// little ahead of the commit order of concurrent appends.
const maxSkew = 5 * time.Second

// NewService returns a replay service with in-memory snapshots every
// 2,000 events read.
func NewService(store *eventstore.Store) *Service { return NewServiceEvery(store, 2000) }

// NewServiceEvery is NewService with snapshots every n events read.
func NewServiceEvery(store *eventstore.Store, n int) *Service {
	return &Service{store: store, every: max(n, 1), snaps: map[string][]snapshot{}}
}

// Relevant reports whether an event shapes tenantID's option lists: the
// system server, every mailbox (global ones of other tenants count), and
// everything of the tenant itself.
func Relevant(rec eventstore.Record, tenantID string) bool {
	if tenantID == AllTenants {
		return true
	}
	return rec.StreamType == string(domain.StreamSystem) || rec.StreamType == string(domain.StreamMailbox) ||
		rec.Metadata.TenantID == tenantID
}

// At returns tenantID's model as it was at time at: every relevant event
// recorded at or before it, applied in commit order.
func (s *Service) At(ctx context.Context, tenantID string, at time.Time) (*Model, error) {
	base := s.nearest(tenantID, at)
	m, pos, last := NewModel(), eventstore.Position{}, time.Time{}
	if base != nil {
		m, pos, last = base.model.Clone(), base.pos, base.last
	}
	head, err := s.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	read, skipped := 0, false
	broken := map[string]bool{} // streams with an event that does not decode
	cursor := pos               // where the next read starts; pos is where snapshots stand
	for {
		if s.BeforeRead != nil {
			s.BeforeRead(ctx)
		}
		// A replay stops when its request does (R34: the client left).
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		recs, err := s.store.ReadUntilRaw(ctx, cursor, head, 1000)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return m, nil
		}
		cursor = recs[len(recs)-1].Position
		for _, rec := range recs {
			if rec.RecordedAt.After(at) {
				if rec.RecordedAt.After(at.Add(maxSkew)) {
					return m, nil
				}
				skipped = true
				continue // a later event; one recorded earlier may still follow
			}
			pos = rec.Position
			if rec.RecordedAt.After(last) {
				last = rec.RecordedAt
			}
			if Relevant(rec, tenantID) && !broken[rec.StreamID] {
				// R35: an event no model can read is left out with every
				// later event of its stream; the other streams, and every
				// other tenant's past, replay as ever.
				if err := s.store.DecodeEvent(&rec); err != nil {
					broken[rec.StreamID] = true
				} else if ev, ok := rec.Event.(domain.Event); ok {
					m.Apply(rec.Position.Offset, ev)
				}
			}
			read++
			// A snapshot holds every event up to its position, so none is
			// taken once this replay has skipped one.
			if read%s.every == 0 && !skipped {
				s.keep(tenantID, snapshot{pos: pos, last: last, model: m.Clone()})
			}
		}
	}
}

// nearest is the latest snapshot of tenantID whose events all precede at.
func (s *Service) nearest(tenantID string, at time.Time) *snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.snaps[tenantID]
	i := sort.Search(len(list), func(i int) bool { return list[i].last.After(at) })
	if i == 0 {
		return nil
	}
	snap := list[i-1] // a copy: keep may reorder the list meanwhile
	return &snap
}

// keep stores a snapshot (at most 64 per tenant: the newest).
func (s *Service) keep(tenantID string, snap snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.snaps[tenantID]
	for _, have := range list {
		if have.pos == snap.pos {
			return
		}
	}
	list = append(slices.Clone(list), snap) // readers may hold the old list
	sort.Slice(list, func(i, j int) bool { return list[i].pos.Less(list[j].pos) })
	if len(list) > 64 {
		list = list[len(list)-64:]
	}
	s.snaps[tenantID] = list
}
