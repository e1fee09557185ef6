// Package observetest captures what the decorator of package observe
// records — spans, the absender.commands metric and log lines — for the
// tests of the packages whose commands run through it. Only test files
// import it.
package observetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Capture is a test process's telemetry: every span in memory, the
// metrics read on demand.
type Capture struct {
	Spans   *tracetest.InMemoryExporter
	Metrics *sdkmetric.ManualReader
}

// Install makes a Capture the global tracer and meter providers, as
// telemetry.Setup installs the real ones; call it once, from TestMain.
func Install() *Capture {
	c := &Capture{Spans: tracetest.NewInMemoryExporter(), Metrics: sdkmetric.NewManualReader()}
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(c.Spans)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(c.Metrics)))
	return c
}

// CommandCount is the absender.commands counter of a command and outcome
// (0 when it never counted).
func (c *Capture) CommandCount(t testing.TB, name, outcome string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := c.Metrics.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "absender.commands" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				cmd, _ := dp.Attributes.Value("command")
				o, _ := dp.Attributes.Value("outcome")
				if cmd.AsString() == name && o.AsString() == outcome {
					return dp.Value
				}
			}
		}
	}
	return 0
}

// Attr is a span's string attribute ("" when it has none).
func Attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == attribute.Key(key) {
			return kv.Value.AsString()
		}
	}
	return ""
}

// Logs collects JSON log lines written by several goroutines.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Logs) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Logs) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines are the decorator's log lines ("command") of the command or step
// name.
func (b *Logs) Lines(t testing.TB, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "command" && m["command"] == name {
			out = append(out, m)
		}
	}
	return out
}
