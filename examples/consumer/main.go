// Command consumer is a runnable analytics consumer of Absender's NATS
// JetStream fan-out (docs/analytics.md). It reads the stream through a
// durable consumer, so a restart continues after the last acknowledged
// event, and prints one line per event envelope (or the envelope's JSON
// with -json). Events arrive at least once: it skips an event id it has
// already seen, as every consumer must (here in memory; a real consumer
// keeps the ids, or each stream's last version, with its own data).
//
//	absender serve --broker-url nats://127.0.0.1:4222 &
//	go run ./examples/consumer -url nats://127.0.0.1:4222 -durable analytics
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Envelope is the message body Absender publishes, one per event.
type Envelope struct {
	ID            string          `json:"id"` // the deduplication key
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schemaVersion"`
	StreamType    string          `json:"streamType"`
	StreamID      string          `json:"streamId"`
	StreamVersion int64           `json:"streamVersion"`
	Position      string          `json:"position"`
	At            time.Time       `json:"at"`
	TenantID      string          `json:"tenantId,omitempty"`
	Actor         string          `json:"actor"`
	CorrelationID string          `json:"correlationId,omitempty"`
	CausationID   string          `json:"causationId,omitempty"`
	Data          json.RawMessage `json:"data"` // secrets removed
}

func main() {
	url := flag.String("url", envOr("NATS_URL", nats.DefaultURL), "NATS server URL (env NATS_URL)")
	stream := flag.String("stream", "ABSENDER", "JetStream stream Absender publishes to")
	durable := flag.String("durable", "absender-example", "durable consumer name: its position survives restarts")
	filter := flag.String("subject", "absender.events.>", "subject filter, e.g. absender.events.mailbox for one stream type")
	asJSON := flag.Bool("json", false, "print each envelope as JSON instead of a summary line")
	idle := flag.Duration("idle", 0, "exit after this long without a new event (0: run until interrupted)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *stream, *durable, *filter, *asJSON, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, stream, durable, filter string, asJSON bool, idle time.Duration) error {
	nc, err := nats.Connect(url, nats.Name("absender example consumer"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: filter,
		DeliverPolicy: jetstream.DeliverAllPolicy, // a new consumer starts at the first event
		AckPolicy:     jetstream.AckExplicitPolicy,
		// One unacknowledged message at a time: a redelivery can never
		// overtake a later event, so each stream stays in order.
		MaxAckPending: 1,
	})
	if err != nil {
		return fmt.Errorf("consumer %s on stream %s: %w", durable, stream, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return err
	}
	defer msgs.Stop()

	seen := map[string]bool{}
	for {
		next := ctx
		cancel := context.CancelFunc(func() {})
		if idle > 0 {
			next, cancel = context.WithTimeout(ctx, idle)
		}
		msg, err := msgs.Next(jetstream.NextContext(next))
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			return nil // idle
		case err != nil:
			return err
		}
		var env Envelope
		if err := json.Unmarshal(msg.Data(), &env); err != nil {
			// Not an envelope: terminate it so it is not redelivered.
			fmt.Fprintf(os.Stderr, "skipping %s: %v\n", msg.Subject(), err)
			_ = msg.Term()
			continue
		}
		if !seen[env.ID] {
			seen[env.ID] = true
			if err := show(env, msg.Data(), asJSON); err != nil {
				return err
			}
		}
		// Acknowledge after handling, and wait for the server to confirm:
		// a consumer that stops before this gets the event again.
		if err := msg.DoubleAck(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("ack %s: %w", env.ID, err)
		}
	}
}

func show(env Envelope, raw []byte, asJSON bool) error {
	if asJSON {
		_, err := fmt.Printf("%s\n", raw)
		return err
	}
	_, err := fmt.Printf("%s %s %s.v%d %s/%s v%d tenant=%s actor=%s data=%s\n", env.Position, env.At.Format(time.RFC3339),
		env.Type, env.SchemaVersion, env.StreamType, env.StreamID, env.StreamVersion, env.TenantID, env.Actor, env.Data)
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
