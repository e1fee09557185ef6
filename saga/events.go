package saga

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

// Resolves lists the event types the resolver handles: MessageQueued only.
func Resolves() []string { return []string{message.MessageQueued{}.EventName()} }

// Ignores lists the event types the resolver skips on purpose, with the
// reason. The delivery workers do not consume events: they find work by
// the messages read model's due time.
func Ignores() map[string]string {
	out := map[string]string{}
	add := func(reason string, events ...domain.Event) {
		for _, e := range events {
			out[e.EventName()] = reason
		}
	}
	add("the resolver's own answer to MessageQueued", message.TransportResolved{})
	add("written by the delivery workers, which find their work by the read model's due time",
		message.DeliveryAttempted{}, message.MessageSent{}, message.DeliveryFailed{}, message.MessageFailed{}, message.MessageRejected{})
	add("a command of the saga's (R23): the read model's due time already stops or starts the workers",
		message.MessageCancelled{}, message.MessageRetryRequested{})
	add("content purging changes no delivery", message.MessageContentPurged{})
	add("configuration: the resolver reads it through the directory when it resolves", system.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", tenant.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", login.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", user.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", group.Events()...)
	add("configuration: the resolver reads it through the directory when it resolves", mailbox.Events()...)
	add("API tokens play no part in delivering", token.Events()...)
	add("a connection check sends no message", check.Events()...)
	return out
}
