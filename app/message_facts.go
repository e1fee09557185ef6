package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
)

// The facts a resolution reads (R1, R2, R6, R17): queueing reads them,
// and the send saga, through SagaPort, before every attempt. The versions
// of the streams read let the append of what was decided on them require
// them unchanged.

// messageFacts gathers what a resolution reads (message.Facts) from the
// event store — the authoritative state, with the version of every stream
// read: the system, the user, the user's tenant (tenantID is where it is
// expected), the mailboxes that have one of the address keys (the
// tenant's own, from its registry; global ones of other tenants, found
// through the read model and then loaded from their streams) and the group
// whose grant lets the user use one. Streams are read in few queries.
func (s Messages) messageFacts(ctx context.Context, userID, tenantID string, keys []string) (message.Facts, error) {
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
func (s Messages) grantingGroup(ctx context.Context, f *message.Facts, c *options.Candidate, u *user.State, m *mailbox.State, recs []eventstore.Record, mid string) error {
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

// targetFacts reads the server a test mail targets (R6), with the
// version of the stream that holds its settings.
func (s Messages) targetFacts(ctx context.Context, tenantID string, target message.Target) (message.Facts, error) {
	f := message.Facts{Versions: map[string]int64{}, MailboxSettings: map[string]domain.ServerSettings{}}
	switch target.Transport {
	case domain.TransportSystemServer:
		var sys system.State
		recs, err := s.loadRecords(ctx, "system", &sys)
		if err != nil {
			return f, err
		}
		f.Versions["system"] = version(recs)
		if st, ok := sys.Settings(); ok {
			f.SystemSettings = &st
		}
	case domain.TransportTenantServer:
		var t tenant.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID})
		recs, err := s.loadRecords(ctx, id, &t)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := t.Server(); ok {
			f.TenantSettings = &st
		}
	case domain.TransportMailbox:
		var mb mailbox.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: target.MailboxID})
		recs, err := s.loadRecords(ctx, id, &mb)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := mb.Settings(); ok && mb.Exists() {
			f.MailboxSettings[target.MailboxID] = st
		}
	}
	return f, nil
}
