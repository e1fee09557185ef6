// Package telemetry sets up OpenTelemetry for an Absender process: traces
// (exported over OTLP when configured), metrics (always on /metrics in the
// Prometheus exposition format, pushed over OTLP when configured) and the
// W3C trace context that travels in event metadata, so the asynchronous
// hops of a request — projections, the send saga, the SMTP transaction —
// join its trace.
//
// Configuration is the standard OTEL_* environment (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT and its per-signal
// variants, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_SDK_DISABLED).
// Tracing is off unless an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp is
// set; /metrics is always served.
//
// Instrumented code uses the global providers (otel.Tracer, the
// instruments of this package), which Setup installs.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configure Setup.
type Options struct {
	// Version is the service.version resource attribute.
	Version string
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// SpanExporter, when set, receives every span synchronously and turns
	// tracing on whatever the environment says (tests).
	SpanExporter sdktrace.SpanExporter
	// Sampler overrides OTEL_TRACES_SAMPLER (benchmarks).
	Sampler sdktrace.Sampler
}

// Telemetry is the process's telemetry.
type Telemetry struct {
	// Metrics serves the Prometheus exposition of every metric.
	Metrics http.Handler
	// Tracing reports whether spans are recorded and exported.
	Tracing bool
	// Describe is the effective telemetry configuration in words.
	Describe string

	shutdown []func(context.Context) error
}

// Setup builds the providers from the environment and installs them as
// the global ones (with the W3C trace-context propagator).
func Setup(ctx context.Context, o Options) (*Telemetry, error) {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	t := &Telemetry{}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("absender"), semconv.ServiceVersion(o.Version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES override
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	disabled := strings.EqualFold(env("OTEL_SDK_DISABLED"), "true")

	// Metrics: Prometheus always, OTLP when asked for.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	promExp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	readers := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(promExp)}
	pushMetrics, err := wants(env, "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "prometheus")
	if err != nil {
		return nil, err
	}
	if pushMetrics && !disabled {
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		readers = append(readers, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	mp := sdkmetric.NewMeterProvider(readers...)
	t.shutdown = append(t.shutdown, mp.Shutdown)
	otel.SetMeterProvider(mp)
	t.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	// Traces: off unless exported somewhere.
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exportTraces, err := wants(env, "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if err != nil {
		return nil, err
	}
	var tpOpts []sdktrace.TracerProviderOption
	switch {
	case o.SpanExporter != nil:
		tpOpts = append(tpOpts, sdktrace.WithSyncer(o.SpanExporter))
	case exportTraces && !disabled:
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	if len(tpOpts) == 0 {
		otel.SetTracerProvider(noop.NewTracerProvider())
		t.Describe = "traces off; metrics on /metrics"
	} else {
		tpOpts = append(tpOpts, sdktrace.WithResource(res))
		if o.Sampler != nil {
			tpOpts = append(tpOpts, sdktrace.WithSampler(o.Sampler))
		}
		tp := sdktrace.NewTracerProvider(tpOpts...) // the sampler from OTEL_TRACES_SAMPLER
		t.shutdown = append(t.shutdown, tp.Shutdown)
		otel.SetTracerProvider(tp)
		t.Tracing = true
		t.Describe = "traces exported over OTLP; metrics on /metrics"
	}
	if pushMetrics && !disabled {
		t.Describe += " and pushed over OTLP"
	}
	return t, nil
}

// wants reports whether a signal is to be exported over OTLP: its
// OTEL_*_EXPORTER says otlp, or, when that is unset, an OTLP endpoint is
// configured. passive names a value that means "not pushed" (prometheus for
// metrics).
func wants(env func(string) string, exporterVar, signalEndpoint, passive string) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(env(exporterVar)))
	switch {
	case v == "":
		return env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env(signalEndpoint) != "", nil
	case v == "otlp":
		return true, nil
	case v == "none" || (passive != "" && v == passive):
		return false, nil
	}
	return false, fmt.Errorf("%s: %q is not supported (otlp or none)", exporterVar, v)
}

// Shutdown flushes and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}
