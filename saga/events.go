package saga

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

// Applies lists the event types the saga's consumer group applies: it
// resolves MessageQueued (R23), and on every one of them it sets the
// message's schedule (saga_schedule, schedule.go) from the message's
// stream as it stands, so their order does not matter. Should it fail on
// one, the message ends FAILED (R35).
func Applies() []string {
	return []string{message.MessageQueued{}.EventName(), message.TransportResolved{}.EventName(),
		message.DeliveryAttempted{}.EventName(), message.DeliveryFailed{}.EventName(), message.MessageSent{}.EventName(),
		message.MessageFailed{}.EventName(), message.MessageRejected{}.EventName(), message.MessageCancelled{}.EventName(),
		message.MessageRetryRequested{}.EventName()}
}

// Ignores lists the event types the saga's consumer skips on purpose,
// with the reason.
func Ignores() map[string]string {
	out := map[string]string{}
	add := func(reason string, events ...domain.Event) {
		for _, e := range events {
			out[e.EventName()] = reason
		}
	}
	add("content purging changes no delivery", message.MessageContentPurged{})
	add("configuration: the resolver reads it through the directory when it resolves", system.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", tenant.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", login.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", user.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", group.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", mailbox.Events()...)
	add("API tokens play no part in delivering", token.Events()...)
	add("a connection check sends no message", check.Events()...)
	add("hosted accounts and mail domains play no part in sending yet (issue 15)", account.Events()...)
	add("hosted accounts and mail domains play no part in sending yet (issue 15)", maildomain.Events()...)
	return out
}
