package history

import (
	"fmt"
	"sort"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/maildomain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

// applier evolves the model by one event type.
type applier struct {
	name  string // versioned event name, e.g. "MailboxAdded.v1"
	apply func(m *Model, position int64, ev domain.Event)
}

// on makes the applier of the event type E.
func on[E domain.Event](f func(m *Model, position int64, e E)) applier {
	var zero E
	return applier{name: zero.EventName(), apply: func(m *Model, position int64, ev domain.Event) { f(m, position, ev.(E)) }}
}

// applies is the model's dispatch table (event name → applier), one list
// per aggregate, each in its own file (apply_<aggregate>.go); it mirrors
// the directory projection's.
var applies = func() map[string]func(m *Model, position int64, ev domain.Event) {
	t := map[string]func(m *Model, position int64, ev domain.Event){}
	for _, as := range [][]applier{applySystem(), applyTenant(), applyUser(), applyGroup(), applyMailbox()} {
		for _, a := range as {
			if _, dup := t[a.name]; dup {
				panic(fmt.Sprintf("history: %s is applied twice", a.name))
			}
			t[a.name] = a.apply
		}
	}
	return t
}()

// Apply evolves the model by one event at a global position.
func (m *Model) Apply(position int64, ev domain.Event) {
	if position > m.position {
		m.position = position
	}
	if ev == nil {
		return
	}
	if f := applies[ev.EventName()]; f != nil {
		f(m, position, ev)
	}
}

// Applies lists the event types the model applies.
func Applies() []string {
	out := make([]string, 0, len(applies))
	for n := range applies {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Ignores lists the event types the model leaves alone on purpose, with
// the reason. Option lists and mailbox access need neither support
// addresses nor tokens nor messages.
func Ignores() map[string]string {
	out := map[string]string{}
	add := func(reason string, events ...domain.Event) {
		for _, e := range events {
			out[e.EventName()] = reason
		}
	}
	add("the send saga's; option lists do not depend on messages", message.Events()...)
	add("login-name claims only guard uniqueness; the user carries its login name from UserCreated", login.Events()...)
	add("mirrors the group or mailbox event the model applies", user.UserJoinedGroup{}, user.UserLeftGroup{},
		user.UserMailboxGranted{}, user.UserMailboxRevoked{}, group.GroupMailboxGranted{}, group.GroupMailboxRevoked{})
	add("the tenant's address registry guards R9/R10 in the aggregate; the mailbox comes from MailboxAdded",
		tenant.TenantMailboxRegistered{}, tenant.TenantMailboxUnregistered{})
	add("support addresses do not change option lists or mailbox access", system.SupportConfigured{}, tenant.TenantSupportAddressSet{})
	add("API tokens do not change option lists or mailbox access", token.Events()...)
	add("a connection check changes no configuration", check.Events()...)
	add("hosted accounts and mail domains are not in option lists or mailbox access yet (issue 15)", account.Events()...)
	add("hosted accounts and mail domains are not in option lists or mailbox access yet (issue 15)", maildomain.Events()...)
	return out
}
