package e2e_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// rawEvent is an event as stored: any name, any JSON, so a test can write
// what the domain would never produce.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

func (e *env) appendRaw(t *testing.T, streamType, streamID, tenantID string, events ...eventstore.Event) {
	t.Helper()
	a := eventstore.StreamAppend{StreamType: streamType, StreamID: streamID, ExpectedVersion: eventstore.Any}
	for _, ev := range events {
		a.Events = append(a.Events, eventstore.NewEvent{Event: ev, Metadata: eventstore.Metadata{TenantID: tenantID, Actor: "test"}})
	}
	if _, err := e.Server.Store.Append(t.Context(), a); err != nil {
		t.Fatal(err)
	}
}

type parkedView struct {
	Position, EventType, Consumer, Error, At string
}

// R35: events no read model can apply — a MessageQueued whose subject
// holds U+0000 and a MailboxUpdated whose JSON does not decode — are
// parked with every later event of their streams, while every other
// tenant's writes answer normally (read-your-writes, no error). The
// mailbox offers nothing while it has a parked event (fail closed);
// parkedEvents lists what was parked without the payload; /readyz names
// it and stays 200.
func TestR35_PoisonEventsAreParkedOtherTenantsGoOn(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		tenantA, tenantB := e.createTenant(t, e.uniq("Poisoned")), e.createTenant(t, e.uniq("Healthy"))
		userA := e.user(t, tenantA, "Anna A", "anna@a.example", "EMPLOYEE")
		mb := e.addMailbox(t, e.Admin, tenantA, "info@a.example", "Info", true, true, nil)
		if !hasAddress(e.senderOptions(t, userA), "info@a.example") {
			t.Fatal("the open mailbox is no sender option before the poison: the test proves nothing")
		}

		// A broken event in the mailbox's stream and a later one behind it.
		e.appendRaw(t, "mailbox", "mailbox-"+mb, tenantA,
			rawEvent{"MailboxUpdated.v1", `{"mailboxId": 42, "displayName": ["secret-name"]}`},
			rawEvent{"MailboxGlobalChanged.v1", `{}`})
		// The finding of issue 10: U+0000 in a subject.
		id := uuid.NewString()
		e.appendRaw(t, "message", "message-"+id, tenantA, message.MessageQueued{MessageID: id, TenantID: tenantA, UserID: userA,
			Kind: message.KindMessage, From: message.Mailbox{Address: "info@a.example"}, To: []message.Mailbox{{Address: "x@b.example"}},
			Subject: "secret-subject\x00tail"})

		// Another tenant writes and reads its writes at once.
		userB := e.user(t, tenantB, "Bert B", "bert@b.example", "EMPLOYEE")
		e.addMailbox(t, e.Admin, tenantB, "info@b.example", "Info B", true, true, nil)
		if !hasAddress(e.senderOptions(t, userB), "info@b.example") {
			t.Error("tenant B's new mailbox is no sender option of its user")
		}

		var v struct{ ParkedEvents []parkedView }
		e.must(t, e.Auditor, `query { parkedEvents { position eventType consumer error at } }`, nil, &v)
		got := map[string]parkedView{}
		for _, p := range v.ParkedEvents {
			got[p.Consumer+" "+p.EventType] = p
			if strings.Contains(p.Error, "secret") {
				t.Errorf("parked %s/%s: error %q copies the payload", p.Consumer, p.EventType, p.Error)
			}
		}
		for _, want := range []string{"directory MailboxUpdated.v1", "directory MailboxGlobalChanged.v1", "audit MailboxUpdated.v1",
			"messages MessageQueued.v1"} {
			if _, ok := got[want]; !ok {
				t.Errorf("parkedEvents lacks %s; got %v", want, v.ParkedEvents)
			}
		}
		if p := got["directory MailboxGlobalChanged.v1"]; p.Error != eventstore.ErrBehindParked.Error() {
			t.Errorf("the later event of the stream: got error %q, want %q", p.Error, eventstore.ErrBehindParked)
		}
		for _, p := range v.ParkedEvents {
			if p.EventType != "MailboxUpdated.v1" && p.EventType != "MailboxGlobalChanged.v1" && !strings.HasPrefix(p.EventType, "Message") &&
				!strings.HasPrefix(p.EventType, "Transport") && !strings.HasPrefix(p.EventType, "Delivery") {
				t.Errorf("an event of another stream was parked: %+v", p)
			}
		}

		// Fail closed: the mailbox with a parked event offers nothing.
		if hasAddress(e.senderOptions(t, userA), "info@a.example") {
			t.Error("the mailbox with a parked event is still a sender option")
		}
	})
}

// R35 fails closed: a group with a parked event grants nothing, and a
// user with a parked event is offered nothing.
func TestR35_ParkedGroupGrantsAndParkedUserIsOfferedNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		a := e.createTenant(t, e.uniq("Tenant"))
		e.setPolicy(t, a, map[string]any{"mailboxQuota": 5})
		member := e.user(t, a, "Mia Member", "mia@a.example", "EMPLOYEE")
		other := e.user(t, a, "Otto Other", "otto@a.example", "EMPLOYEE")
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Sales"){ id } }`, map[string]any{"t": a}, &g)
		e.must(t, e.Admin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": g.CreateGroup.ID, "u": member}, nil)
		restricted := e.addMailbox(t, e.Admin, a, "sales@a.example", "Sales", true, true, nil)
		e.must(t, e.Admin, `mutation($m:ID!,$g:ID!){ grantGroup(mailboxId:$m, groupId:$g){ id } }`, map[string]any{"m": restricted, "g": g.CreateGroup.ID}, nil)
		e.addMailbox(t, e.Admin, a, "info@a.example", "Info", true, true, nil)
		if !hasAddress(e.senderOptions(t, member), "sales@a.example") || !hasAddress(e.senderOptions(t, other), "info@a.example") {
			t.Fatal("the options lack the granted or open mailbox before the poison: the test proves nothing")
		}

		e.appendRaw(t, "group", "group-"+g.CreateGroup.ID, a, rawEvent{"GroupMemberAdded.v1", `{"groupId": 1}`})
		e.appendRaw(t, "user", "user-"+other, a, rawEvent{"UserBlockedChanged.v1", `{"blocked": "no"}`})
		e.createTenant(t, e.uniq("After")) // read-your-writes: both are consumed

		if got := e.senderOptions(t, member); hasAddress(got, "sales@a.example") || !hasAddress(got, "info@a.example") {
			t.Errorf("member of the parked group: got %v, want info@a.example but not the group's sales@a.example", addresses(got))
		}
		if got := e.senderOptions(t, other); len(got) != 0 {
			t.Errorf("user with a parked event: got %v, want no options", addresses(got))
		}

		resp, err := http.Get(e.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Status string
			Checks map[string]string
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || body.Status != "ready" {
			t.Errorf("/readyz: got %d %q, want 200 ready", resp.StatusCode, body.Status)
		}
		if !regexp.MustCompile(`^[0-9]+ events$`).MatchString(body.Checks["parked"]) {
			t.Errorf(`/readyz checks.parked: got %q, want "N events"`, body.Checks["parked"])
		}
	})
}

// R35: no single event stops other tenants' reads — also the reads that
// replay the history (mailboxAccess, every at:). An event that does not
// decode is left out of a replay with the later events of its stream.
func TestR35_PoisonEventDoesNotStopHistory(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		tenantA, tenantB := e.createTenant(t, e.uniq("Poisoned")), e.createTenant(t, e.uniq("Healthy"))
		mbA := e.addMailbox(t, e.Admin, tenantA, "info@a.example", "Info", true, true, nil)
		userB := e.user(t, tenantB, "Bert B", "bert@b.example", "EMPLOYEE")
		mbB := e.addMailbox(t, e.Admin, tenantB, "info@b.example", "Info B", true, true, nil)
		e.appendRaw(t, "mailbox", "mailbox-"+mbA, tenantA,
			rawEvent{"MailboxUpdated.v1", `{"mailboxId": 42, "displayName": ["secret-name"]}`})

		var access struct{ MailboxAccess conn[struct{ ID string }] }
		e.must(t, e.Admin, `query($m:ID!){ mailboxAccess(mailboxId:$m) { edges { node { id } } } }`, map[string]any{"m": mbB}, &access)
		if len(access.MailboxAccess) != 1 || access.MailboxAccess[0].ID != userB {
			t.Errorf("mailboxAccess of tenant B's mailbox: got %v, want [%s]", access.MailboxAccess, userB)
		}
		var opts struct{ SenderOptions []struct{ Address string } }
		e.must(t, e.Admin, `query($u:ID!,$at:Time){ senderOptions(userId:$u, at:$at){ address } }`,
			map[string]any{"u": userB, "at": time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}, &opts)
		found := false
		for _, o := range opts.SenderOptions {
			found = found || o.Address == "info@b.example"
		}
		if !found {
			t.Errorf("senderOptions(at:) of tenant B's user: got %v, want info@b.example among them", opts.SenderOptions)
		}
	})
}

// R35: an event that does not decode does not end the events
// subscription of every reader (nor every resumption from before it): it
// passes as it is stored, secrets stripped, and the later events follow.
func TestR35_PoisonEventDoesNotStopEventsSubscription(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tenantA := e.createTenant(t, e.uniq("Poisoned"))
		mbA := e.addMailbox(t, e.Admin, tenantA, "info@a.example", "Info", true, true, nil)
		e.appendRaw(t, "mailbox", "mailbox-"+mbA, tenantA,
			rawEvent{"MailboxUpdated.v1", `{"mailboxId": 42, "displayName": ["x"], "password": "secret"}`})
		after := e.createTenant(t, e.uniq("After"))
		c := e.mustDialWS(t, e.Admin)
		c.subscribe(t, "1", map[string]any{})
		c.until(t, "1", func(ev event) bool {
			if ev.Type == "MailboxUpdated.v1" && strings.Contains(ev.Data, "secret") {
				t.Errorf("the undecodable event is passed on with its secret: %s", ev.Data)
			}
			return ev.TenantID != nil && *ev.TenantID == after
		})
	})
}
