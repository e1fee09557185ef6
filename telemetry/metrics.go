package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The instruments. They are created from the global meter provider once;
// the global provider hands them to the one Setup installs later.
var (
	once        sync.Once
	commands    metric.Int64Counter
	appended    metric.Int64Counter
	messages    metric.Int64Counter
	latency     metric.Float64Histogram
	retries     metric.Int64Counter
	authFailure metric.Int64Counter
)

func instruments() {
	once.Do(func() {
		m := otel.Meter("github.com/absender/absender")
		commands, _ = m.Int64Counter("absender.commands", metric.WithUnit("{command}"),
			metric.WithDescription("Commands by command (the API's mutation names and the send saga's step names) and outcome (ok or the error code), whoever ran them."))
		appended, _ = m.Int64Counter("absender.events.appended", metric.WithUnit("{event}"),
			metric.WithDescription("Events appended to the event store, by stream type."))
		messages, _ = m.Int64Counter("absender.messages", metric.WithUnit("{message}"),
			metric.WithDescription("Messages reaching a status (QUEUED, SENT, FAILED, REJECTED), by transport."))
		latency, _ = m.Float64Histogram("absender.delivery.latency", metric.WithUnit("s"),
			metric.WithDescription("Time from queueing a message to the server's acceptance."),
			metric.WithExplicitBucketBoundaries(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400))
		retries, _ = m.Int64Counter("absender.delivery.retries", metric.WithUnit("{attempt}"),
			metric.WithDescription("Delivery attempts that failed temporarily and will be retried, by transport."))
		authFailure, _ = m.Int64Counter("absender.auth.failures", metric.WithUnit("{request}"),
			metric.WithDescription("Requests whose API token was refused, by reason."))
	})
}

// Command counts a command and its outcome ("ok" or an error code); the
// decorator every command runs through (package observe) calls it.
func Command(ctx context.Context, name, outcome string) {
	instruments()
	commands.Add(ctx, 1, metric.WithAttributes(attribute.String("command", name), attribute.String("outcome", outcome)))
}

// Appended counts appended events of a stream type.
func Appended(ctx context.Context, streamType string, n int) {
	instruments()
	appended.Add(ctx, int64(n), metric.WithAttributes(attribute.String("stream_type", streamType)))
}

// Message counts a message reaching status through transport ("" before
// resolution).
func Message(ctx context.Context, status, transport string) {
	instruments()
	messages.Add(ctx, 1, metric.WithAttributes(attribute.String("status", status), attribute.String("transport", transport)))
}

// Delivered records the time from queueing to the server's acceptance.
func Delivered(ctx context.Context, d time.Duration, transport string) {
	instruments()
	latency.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String("transport", transport)))
}

// Retry counts a temporary delivery failure that will be retried.
func Retry(ctx context.Context, transport string) {
	instruments()
	retries.Add(ctx, 1, metric.WithAttributes(attribute.String("transport", transport)))
}

// AuthFailure counts a refused API token. The reason is "refused" for
// every kind (unknown, malformed, revoked, a blocked user's): the API does
// not tell them apart either.
func AuthFailure(ctx context.Context, reason string) {
	instruments()
	authFailure.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// Lag is one consumer group's lag.
type Lag struct {
	Group   string
	Events  int64
	Seconds float64
}

// ObserveLag reports the lag of consumer groups as gauges
// (absender.projection.lag.events and .seconds, by projection) each time
// metrics are collected; measure is asked then. stop ends the reports.
func ObserveLag(measure func(ctx context.Context) ([]Lag, error)) (stop func(), err error) {
	m := otel.Meter("github.com/absender/absender")
	evs, err := m.Int64ObservableGauge("absender.projection.lag.events", metric.WithUnit("{event}"),
		metric.WithDescription("Events committed that a consumer group (projection, saga, broker) has not handled yet."))
	if err != nil {
		return nil, err
	}
	secs, err := m.Float64ObservableGauge("absender.projection.lag.seconds", metric.WithUnit("s"),
		metric.WithDescription("How long the oldest event a consumer group has not handled has waited."))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		lags, err := measure(ctx)
		for _, l := range lags {
			attrs := metric.WithAttributes(attribute.String("projection", l.Group))
			o.ObserveInt64(evs, l.Events, attrs)
			o.ObserveFloat64(secs, l.Seconds, attrs)
		}
		return err
	}, evs, secs)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}

// ObserveParked reports the events each consumer group parked (R35) as
// the gauge absender.parked.events (absender_parked_events{consumer} on
// /metrics) each time metrics are collected; count is asked then. stop
// ends the reports.
func ObserveParked(count func(ctx context.Context) (map[string]int64, error)) (stop func(), err error) {
	m := otel.Meter("github.com/absender/absender")
	parked, err := m.Int64ObservableGauge("absender.parked.events", metric.WithUnit("{event}"),
		metric.WithDescription("Events a consumer group (projection, saga, broker) parked because it failed on them for good (R35)."))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		counts, err := count(ctx)
		for g, n := range counts {
			o.ObserveInt64(parked, n, metric.WithAttributes(attribute.String("consumer", g)))
		}
		return err
	}, parked)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
