package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/telemetry"
)

// MessageStreamID is the event-store stream of a message.
func MessageStreamID(id string) string { return "message-" + id }

// idempotencyNamespace makes message ids from (user, idempotencyKey).
var idempotencyNamespace = uuid.MustParse("6f1c2a52-0d3e-4c55-9a53-5d8f3c1b7e21")

// IdempotentMessageID is the id of the message a user sends with an
// idempotency key (R23): the same user and key always name the same
// message, so a retried request finds it and a race appends it once.
func IdempotentMessageID(userID, key string) string {
	return uuid.NewSHA1(idempotencyNamespace, []byte(userID+"\x00"+key)).String()
}

// SendMessage queues a message of the request's user after the checks of
// R17, in its order (message.Queue decides them): permission (the caller's
// user), idempotent replay (here: it reads the message the key names),
// R1/R2, From, Reply-To, then R22 and R5 field by field. It returns the
// message id; a refused message leaves nothing behind.
func (s *Service) SendMessage(ctx context.Context, d message.Draft, idempotencyKey string) (string, Result, error) {
	req := RequestFrom(ctx)
	in := message.QueueInput{UserID: req.Actor.UserID, IdempotencyKey: idempotencyKey, Draft: d}
	if err := in.CheckRequester(); err != nil {
		return "", Result{}, err
	}
	if idempotencyKey == "" {
		in.MessageID = s.newID()
	} else {
		in.MessageID = IdempotentMessageID(in.UserID, idempotencyKey)
		if res, ok, err := s.existing(ctx, in.MessageID, d); err != nil || ok {
			return in.MessageID, res, err
		}
	}
	var err error
	if in.Facts, err = s.messageFacts(ctx, in.UserID, req.Actor.TenantID, message.AddressKeys(d)); err != nil {
		return "", Result{}, err
	}
	dec, err := message.Queue(in)
	if err != nil {
		return "", Result{}, err
	}
	// The decision resolved the transport already (R17 and R5 need it):
	// that resolution, with the versions it read, is recorded with the
	// message, and the saga's resolver finds the message resolved.
	res, err := s.queue(ctx, dec.Queued, dec.Content, dec.Events()[1:]...)
	if errors.Is(err, eventstore.ErrConflict) && idempotencyKey != "" {
		// The same key won a race: answer with that message.
		res, _, err = s.existing(ctx, in.MessageID, d)
	}
	return in.MessageID, res, err
}

// existing finds a queued message (idempotent replay, R23): the same
// content answers with it, other content is CONFLICT
// (message.SameContent says what counts as the same).
func (s *Service) existing(ctx context.Context, id string, d message.Draft) (Result, bool, error) {
	var m message.State
	recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
	if err != nil || len(recs) == 0 || !m.Exists() {
		return Result{}, false, err
	}
	var stored *message.Content
	switch c, err := s.MessageContent(ctx, id); {
	case err == nil:
		stored = &c
	case !errors.Is(err, ErrContentPurged) && !errors.Is(err, ErrUndecryptable):
		return Result{}, false, err
	}
	if !message.SameContent(*m.Queued(), d, stored) {
		return Result{}, false, domain.Conflict("idempotencyKey: this key was used for a message with other content")
	}
	return Result{Position: recs[0].Position, Events: 0}, true, nil
}

// queue appends MessageQueued (and then, when given, the message's
// resolution) and stores the encrypted content, in one transaction (R25).
func (s *Service) queue(ctx context.Context, q message.MessageQueued, c message.Content, then ...domain.Event) (Result, error) {
	req := RequestFrom(ctx)
	if q.RetainUntil.IsZero() {
		q.RetainUntil = s.now().Add(s.retention).UTC().Truncate(time.Second)
	}
	if q.HeaderID == "" {
		q.HeaderID = message.NewHeaderID(q.MessageID, q.From.Address)
	}
	sealed, key, err := s.content.Seal(q.MessageID, c)
	if err != nil {
		return Result{}, err
	}
	q.Text, q.HTML, q.Attachments = message.Describe(c, key)
	a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: MessageStreamID(q.MessageID), ExpectedVersion: 0,
		Events: []eventstore.NewEvent{{Event: q, Metadata: s.metadata(req, q.TenantID)}}}
	for _, ev := range then {
		a.Events = append(a.Events, eventstore.NewEvent{Event: ev, Metadata: s.metadata(req, q.TenantID)})
	}
	res, err := s.store.AppendWith(ctx, func(ctx context.Context, tx bun.IDB) error {
		return content.Insert(ctx, tx, sealed, q.RetainUntil)
	}, a)
	if err != nil {
		return Result{}, err
	}
	telemetry.Message(ctx, string(message.StatusQueued), "")
	if len(then) > 0 && s.onQueued != nil {
		s.onQueued(ctx, q.MessageID)
	}
	return Result{Position: res.Last, Events: len(a.Events)}, nil
}

func (s *Service) metadata(req Request, tenantID string) eventstore.Metadata {
	return eventstore.Metadata{Actor: req.Principal, TenantID: tenantID, CorrelationID: req.CorrelationID,
		CausationID: req.CausationID, IdempotencyKey: req.IdempotencyKey, TraceParent: req.TraceParent}
}

// SendTestMail queues a test mail (R6) to one address through the system
// server (tenantID and mailboxID empty), a tenant's server (tenantID) or
// one of its authenticated mailboxes (mailboxID) — also while R1–R3 would
// not use that server; message.QueueTest decides it. Permission is the
// caller's to check.
func (s *Service) SendTestMail(ctx context.Context, tenantID, mailboxID, to string) (string, Result, error) {
	in := message.QueueTestInput{UserID: RequestFrom(ctx).Actor.UserID, To: to, TenantID: tenantID, MailboxID: mailboxID}
	switch {
	case mailboxID != "":
		var m mailbox.State
		if err := s.loadStream(ctx, domain.StreamMailbox, mailboxID, &m); err != nil {
			return "", Result{}, err
		}
		if m.Exists() {
			in.Mailbox = &message.TestMailbox{TenantID: m.TenantID(), Address: m.Address()}
			if ms, ok := m.Settings(); ok {
				in.Mailbox.Settings = &ms
			}
		}
	case tenantID != "":
		var t tenant.State
		if err := s.loadStream(ctx, domain.StreamTenant, tenantID, &t); err != nil {
			return "", Result{}, err
		}
		if t.Exists() {
			in.Tenant = &message.TestTenant{Name: t.Name()}
			if ts, ok := t.Server(); ok {
				in.Tenant.Server = &ts
			}
		}
	default:
		var sys system.State
		if err := s.loadStream(ctx, domain.StreamSystem, "system", &sys); err != nil {
			return "", Result{}, err
		}
		if ss, ok := sys.Settings(); ok {
			in.SystemServer = &ss
		}
	}
	in.MessageID = s.newID()
	dec, err := message.QueueTest(in)
	if err != nil {
		return "", Result{}, err
	}
	res, err := s.queue(ctx, dec.Queued, dec.Content, dec.Events()[1:]...)
	return in.MessageID, res, err
}

// SubmitSupportRequest sends a user's support request (R7) to the
// effective support address, From the tenant's system mailbox (R8),
// Reply-To the user, through the normal resolution; message.QueueSupport
// decides it.
func (s *Service) SubmitSupportRequest(ctx context.Context, subject, body string) (string, Result, error) {
	req := RequestFrom(ctx)
	in := message.QueueSupportInput{UserID: req.Actor.UserID, Subject: subject, Body: body, Version: s.version}
	if err := in.CheckRequester(); err != nil {
		return "", Result{}, err
	}
	var err error
	if in.Facts, err = s.messageFacts(ctx, in.UserID, req.Actor.TenantID, nil); err != nil {
		return "", Result{}, err
	}
	var sys system.State
	if err := s.loadStream(ctx, domain.StreamSystem, "system", &sys); err != nil {
		return "", Result{}, err
	}
	var t tenant.State
	if err := s.loadStream(ctx, domain.StreamTenant, in.Facts.Viewer.TenantID, &t); err != nil {
		return "", Result{}, err
	}
	in.Support, in.TenantName, in.TenantSupportAddress = sys.Support(), t.Name(), t.OwnSupportAddress()
	in.MessageID = s.newID()
	dec, err := message.QueueSupport(in)
	if err != nil {
		return "", Result{}, err
	}
	res, err := s.queue(ctx, dec.Queued, dec.Content, dec.Events()[1:]...)
	return in.MessageID, res, err
}

// PurgeMessageContent erases a message's content now (R25); the history
// of what was sent to whom stays. Permission is the caller's to check.
func (s *Service) PurgeMessageContent(ctx context.Context, id, reason string) (Result, error) {
	for range s.retries {
		var m message.State
		recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
		if err != nil {
			return Result{}, err
		}
		events, err := m.Purge(reason)
		if err != nil || len(events) == 0 {
			return Result{}, err
		}
		a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: MessageStreamID(id), ExpectedVersion: version(recs),
			Events: []eventstore.NewEvent{{Event: events[0], Metadata: s.metadata(RequestFrom(ctx), m.TenantID())}}}
		res, err := s.store.AppendWith(ctx, func(ctx context.Context, tx bun.IDB) error {
			return content.Erase(ctx, tx, id)
		}, a)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the saga moved on meanwhile
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Position: res.Last, Events: 1}, nil
	}
	return Result{}, domain.Conflict("the message changed too often while its content was purged; try again")
}

// PurgeExpired erases the content of finished messages past their
// retention (R25), at most limit of them, and returns how many it purged.
// A message still being delivered keeps its content until it is finished
// (retries end within about a day, retention is counted in days).
func (s *Service) PurgeExpired(ctx context.Context, limit int) (int, error) {
	ids, err := s.expiredFinished(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("app: expired messages: %w", err)
	}
	ctx = WithRequest(ctx, Request{Principal: "system:retention"})
	for i, id := range ids {
		if _, err := s.PurgeMessageContent(ctx, id, "retention period ended"); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// expiredFinished returns up to limit finished messages whose content is
// past its retention, oldest retention first: the content store's expired
// contents, page by page, kept when the messages read model shows the
// message finished.
func (s *Service) expiredFinished(ctx context.Context, limit int) ([]string, error) {
	now := s.now()
	var ids []string
	var after content.Expired
	for len(ids) < limit {
		page, err := s.content.Expired(ctx, now, after, limit)
		if err != nil || len(page) == 0 {
			return ids, err
		}
		after = page[len(page)-1]
		pageIDs := make([]string, len(page))
		for i, e := range page {
			pageIDs[i] = e.MessageID
		}
		done, err := s.reader.FinishedMessages(ctx, pageIDs)
		if err != nil {
			return ids, err
		}
		finished := make(map[string]bool, len(done))
		for _, id := range done {
			finished[id] = true
		}
		for _, id := range pageIDs {
			if finished[id] && len(ids) < limit {
				ids = append(ids, id)
			}
		}
		if len(page) < limit {
			break
		}
	}
	return ids, nil
}

// loadStream rebuilds an aggregate from its stream.
func (s *Service) loadStream(ctx context.Context, kind domain.StreamKind, id string, agg aggregate) error {
	_, err := s.loadRecords(ctx, StreamID(domain.StreamRef{Kind: kind, ID: id}), agg)
	return err
}

func (s *Service) loadRecords(ctx context.Context, streamID string, agg aggregate) ([]eventstore.Record, error) {
	recs, err := s.store.Load(ctx, streamID)
	if err != nil {
		return nil, err
	}
	apply(recs, agg)
	return recs, nil
}

func version(recs []eventstore.Record) int64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Version
}

// messageFacts gathers what a resolution reads (message.Facts) from the
// event store — the authoritative state, with the version of every stream
// read: the system, the user, the user's tenant (tenantID is where it is
// expected), the mailboxes that have one of the address keys (the
// tenant's own, from its registry; global ones of other tenants, found
// through the read model and then loaded from their streams) and the group
// whose grant lets the user use one. Streams are read in few queries.
func (s *Service) messageFacts(ctx context.Context, userID, tenantID string, keys []string) (message.Facts, error) {
	f := message.Facts{Versions: map[string]int64{}, MailboxSettings: map[string]domain.ServerSettings{},
		MailboxNames: map[string]string{}, Grants: map[string]message.Grant{}}
	uid := StreamID(domain.StreamRef{Kind: domain.StreamUser, ID: userID})
	tid := StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID})
	streams, err := s.store.LoadMany(ctx, "system", uid, tid)
	if err != nil {
		return f, err
	}
	var sys system.State
	f.Versions["system"] = apply(streams["system"], &sys)
	f.System = sys.Facts()
	if st, ok := sys.Settings(); ok {
		f.SystemSettings = &st
	}
	var u user.State
	f.Versions[uid] = apply(streams[uid], &u)
	f.Viewer = options.Viewer{UserID: userID, TenantID: u.TenantID(), DisplayName: u.DisplayName(), Email: u.Email(),
		EmailKey: u.EmailKey(), Role: u.Role(), Blocked: u.Blocked(), Active: u.Exists()}
	if u.TenantID() == "" {
		f.Tenant.Transport = domain.TransportNone
		return f, nil
	}
	if u.TenantID() != tenantID {
		tid = StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: u.TenantID()})
		recs, err := s.store.Load(ctx, tid)
		if err != nil {
			return f, err
		}
		streams[tid] = recs
	}
	var t tenant.State
	f.Versions[tid] = apply(streams[tid], &t)
	if ts, ok := t.Server(); ok {
		f.TenantSettings = &ts
	}
	f.Tenant = options.Tenant{ID: t.ID(), Policy: t.Policy(), Transport: t.EffectiveTransport(sys.Facts())}
	switch f.Tenant.Transport {
	case domain.TransportTenantServer:
		f.Tenant.SystemMailboxAddress, f.Tenant.SystemMailboxName = f.TenantSettings.SenderAddress, f.TenantSettings.SenderName
	case domain.TransportSystemServer:
		f.Tenant.SystemMailboxAddress, f.Tenant.SystemMailboxName = f.SystemSettings.SenderAddress, f.SystemSettings.SenderName
	}
	if len(keys) == 0 {
		return f, nil
	}
	ids := t.MailboxesWithKey(keys...)
	global, err := s.reader.GlobalMailboxesWithKeys(ctx, u.TenantID(), keys)
	if err != nil {
		return f, fmt.Errorf("app: global mailboxes: %w", err)
	}
	ids = append(ids, global...)
	if len(ids) == 0 {
		return f, nil
	}
	sort.Strings(ids)
	mids := make([]string, len(ids))
	for i, id := range ids {
		mids[i] = StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: id})
	}
	mailboxes, err := s.store.LoadMany(ctx, mids...)
	if err != nil {
		return f, err
	}
	for i, id := range ids {
		mid, recs := mids[i], mailboxes[mids[i]]
		var m mailbox.State
		v := apply(recs, &m)
		if !m.Exists() || (m.TenantID() != u.TenantID() && !m.Global()) {
			continue
		}
		f.Versions[mid] = v
		c := options.Candidate{MailboxID: id, TenantID: m.TenantID(), Address: m.Address(), AddressKey: m.AddressKey(),
			DisplayName: m.DisplayName(), Sender: m.Sender(), ReplyTo: m.ReplyTo(), Global: m.Global(),
			Authenticated: m.Authenticated(), Restricted: m.Restricted(), Seq: recs[0].Position.Offset}
		f.MailboxNames[id] = m.Address()
		if ms, ok := m.Settings(); ok {
			f.MailboxSettings[id] = ms
		}
		if m.HasUserGrant(userID) {
			c.Granted = true
			f.Grants[id] = message.Grant{Description: "direct grant to the user", Ref: grantEvent(recs, "MailboxUserGranted", userID)}
		} else if err := s.grantingGroup(ctx, &f, &c, &u, &m, recs, mid); err != nil {
			return f, err
		}
		f.Candidates = append(f.Candidates, c)
	}
	return f, nil
}

// grantingGroup finds a group of the user that is granted the mailbox and
// records it (the group stream's version too) as what grants it.
func (s *Service) grantingGroup(ctx context.Context, f *message.Facts, c *options.Candidate, u *user.State, m *mailbox.State, recs []eventstore.Record, mid string) error {
	groups := u.GroupIDs()
	sort.Strings(groups)
	for _, g := range groups {
		if !m.HasGroupGrant(g) {
			continue
		}
		var gs group.State
		gid := StreamID(domain.StreamRef{Kind: domain.StreamGroup, ID: g})
		grecs, err := s.loadRecords(ctx, gid, &gs)
		if err != nil {
			return err
		}
		if !gs.Exists() || !gs.HasMember(u.ID()) {
			continue
		}
		f.Versions[gid] = version(grecs)
		c.Granted = true
		f.Grants[c.MailboxID] = message.Grant{Description: "grant to group " + gs.Name() + ", of which the user is a member",
			Ref: grantEvent(recs, "MailboxGroupGranted", g)}
		return nil
	}
	return nil
}

// apply rebuilds agg from recs and returns the stream's version.
func apply(recs []eventstore.Record, agg aggregate) int64 {
	for _, r := range recs {
		if ev, ok := r.Event.(domain.Event); ok {
			agg.Apply(ev)
		}
	}
	return version(recs)
}

// grantEvent finds the event that granted a mailbox to a grantee: the
// last such event of the mailbox stream (nil when there is none).
func grantEvent(recs []eventstore.Record, typ, grantee string) *message.GrantRef {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type != typ {
			continue
		}
		ref := &message.GrantRef{At: recs[i].RecordedAt.UTC(), Position: recs[i].Position.String()}
		switch e := recs[i].Event.(type) {
		case mailbox.MailboxUserGranted:
			if e.UserID == grantee {
				ref.UserID = grantee
				return ref
			}
		case mailbox.MailboxGroupGranted:
			if e.GroupID == grantee {
				ref.GroupID = grantee
				return ref
			}
		}
	}
	return nil
}

// jitter is the random part of retry delays.
func jitter() float64 { return rand.Float64() }
