package saga

import (
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
)

// Delivery is one attempt a worker makes: what to send, through which
// settings, with the plain secrets — decrypted in memory just now, for
// this attempt only.
type Delivery struct {
	Queued     message.MessageQueued
	Attempt    int
	Resolution message.Resolution
	Settings   domain.ServerSettings
	// Password and GraphClientSecret are plain text: never log them.
	Password, GraphClientSecret string
	Content                     message.Content
	// QueuedAt is when the message was queued; CorrelationID is the
	// queueing request's.
	QueuedAt      time.Time
	CorrelationID string

	// The message as the attempt left it, so the outcome usually appends
	// without reading the stream again.
	state  message.State
	cursor cursor
}
