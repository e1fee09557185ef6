// Package catalog lists every event type of the domain, so the event store
// can register them by EventName for decoding.
package catalog

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/maildomain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

// Events returns a zero value of every event type of every aggregate.
func Events() []domain.Event {
	var all []domain.Event
	for _, events := range [][]domain.Event{
		system.Events(), tenant.Events(), login.Events(), user.Events(),
		group.Events(), mailbox.Events(), token.Events(), message.Events(), check.Events(),
		maildomain.Events(), account.Events(),
	} {
		all = append(all, events...)
	}
	return all
}
