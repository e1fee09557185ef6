package projections_test

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/catalog"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/history"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
)

// consumer is one consumer of the event log as its dispatch table says:
// the event types it applies and those it ignores on purpose (with the
// reason).
type consumer struct {
	name    string
	applies []string
	ignores map[string]string
}

func tableConsumers() []consumer {
	return []consumer{
		{"directory projection", projections.Directory{}.Applies(), projections.Directory{}.Ignores()},
		{"messages projection", projections.Messages{}.Applies(), projections.Messages{}.Ignores()},
		{"history model", history.Applies(), history.Ignores()},
		{"saga (resolver and schedule)", saga.Applies(), saga.Ignores()},
	}
}

// undecided lists what is wrong with a consumer's table against a
// catalogue: event types it neither applies nor ignores, types it does
// both, and types it names that the catalogue lacks.
func undecided(events []domain.Event, c consumer) []string {
	var out []string
	known := map[string]bool{}
	for _, e := range events {
		name := e.EventName()
		known[name] = true
		_, ignored := c.ignores[name]
		applied := slices.Contains(c.applies, name)
		switch {
		case !applied && !ignored:
			out = append(out, name+": neither applied nor ignored")
		case applied && ignored:
			out = append(out, name+": applied and ignored")
		}
		if ignored && strings.TrimSpace(c.ignores[name]) == "" {
			out = append(out, name+": ignored without a reason")
		}
	}
	for _, n := range append(slices.Clone(c.applies), keys(c.ignores)...) {
		if !known[n] {
			out = append(out, n+": not in the catalogue")
		}
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// secretLooking are field names that hold a secret by their look.
var secretLooking = regexp.MustCompile(`(?i)password|secret|hash|privatekey|apikey`)

// unstrippedSecrets lists the JSON fields of an event type (at any depth)
// that look like secrets but that envelope.StripSecrets (the fan-out, the
// events subscription, the export) and the audit log's masking
// (envelope.IsSecret) do not know.
func unstrippedSecrets(e domain.Event) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				walk(f.Type, path)
				continue
			}
			if secretLooking.MatchString(name) && !envelope.IsSecret(name) {
				out = append(out, path+name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeOf(e), "")
	return out
}

// auditSettingsIgnores are the event types that carry settings but need
// no rule of the audit log's: there are no earlier settings to drop.
var auditSettingsIgnores = map[string]string{
	"MailboxAdded": "starts its stream: no earlier settings to replace",
}

// auditUndecided lists the event types that carry server settings but
// that the audit log's change extraction does not treat as replacing the
// stream's settings whole (R4: a dropped password must show as removed).
func auditUndecided(events []domain.Event) []string {
	var out []string
	for _, e := range events {
		typ, _, _ := eventstore.SplitName(e.EventName())
		if carriesSettings(reflect.TypeOf(e)) && !projections.AuditReplacesSettings(typ) && !projections.AuditClearsSettings(typ) {
			if _, ok := auditSettingsIgnores[typ]; !ok {
				out = append(out, e.EventName())
			}
		}
	}
	return out
}

func carriesSettings(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft == reflect.TypeOf(domain.ServerSettings{}) {
			return true
		}
	}
	return false
}

// TestEveryConsumerDecidesEveryEvent: every event type of the catalogue
// (domain/catalog, documented in docs/events.md) is applied, or ignored
// with a reason, by the directory and messages projections, the history
// model and the saga's resolver; its secrets are known to the stripping of
// the fan-out and to the audit log's masking (SPEC §3); and an event that
// carries settings is one the audit log's change extraction replaces
// settings with (R4).
func TestEveryConsumerDecidesEveryEvent(t *testing.T) {
	events := catalog.Events()
	for _, c := range tableConsumers() {
		if bad := undecided(events, c); len(bad) > 0 {
			t.Errorf("%s:\n  %s", c.name, strings.Join(bad, "\n  "))
		}
	}
	for _, e := range events {
		if bad := unstrippedSecrets(e); len(bad) > 0 {
			t.Errorf("fan-out stripping and audit masking: %s has secret-looking fields they keep: %v", e.EventName(), bad)
		}
	}
	if bad := auditUndecided(events); len(bad) > 0 {
		t.Errorf("audit change extraction: %v carry settings without a rule", bad)
	}
	// The recent additions are decided by name, not only by count.
	for _, name := range []string{"MessageCancelled.v1", "MessageRetryRequested.v1", "MailServerChecked.v1", "MailboxRestrictionChanged.v1"} {
		for _, c := range tableConsumers() {
			if _, ignored := c.ignores[name]; !ignored && !slices.Contains(c.applies, name) {
				t.Errorf("%s does not decide %s", c.name, name)
			}
		}
	}
}

// planted is an event type no consumer knows, as a new catalogue entry
// would be before each consumer decides.
type planted struct {
	ID           string                 `json:"id"`
	ClientSecret string                 `json:"clientSecret"`
	Settings     *domain.ServerSettings `json:"settings,omitempty"`
}

func (planted) EventName() string { return "PlantedForTest.v1" }

// TestEveryConsumerDecidesEveryEventFailsOnAPlantedEvent proves the test
// above fails when the catalogue grows: each consumer names the planted
// event, the secret check its secret field, the audit check its settings.
func TestEveryConsumerDecidesEveryEventFailsOnAPlantedEvent(t *testing.T) {
	events := append(catalog.Events(), planted{})
	for _, c := range tableConsumers() {
		bad := undecided(events, c)
		if want := []string{"PlantedForTest.v1: neither applied nor ignored"}; !slices.Equal(bad, want) {
			t.Errorf("%s: got %q, want %q", c.name, bad, want)
		}
	}
	if bad := unstrippedSecrets(planted{}); !slices.Equal(bad, []string{"clientSecret"}) {
		t.Errorf("secret check: got %q, want [clientSecret]", bad)
	}
	if bad := auditUndecided(events); !slices.Equal(bad, []string{"PlantedForTest.v1"}) {
		t.Errorf("audit check: got %q, want [PlantedForTest.v1]", bad)
	}
	// A table that names an event the catalogue lacks is stale.
	stale := consumer{name: "stale", applies: []string{"Gone.v1"}, ignores: map[string]string{}}
	if bad := undecided(nil, stale); !slices.Equal(bad, []string{"Gone.v1: not in the catalogue"}) {
		t.Errorf("stale check: got %q", bad)
	}
}
