package eventstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeMetadata gives what json.Unmarshal gives, on the store's own
// metadata and on objects its fast path leaves to encoding/json.
func TestDecodeMetadataMatchesUnmarshal(t *testing.T) {
	written, _ := json.Marshal(map[string]string{"actor": `a"b<&>`, "tenant_id": "é\u2028", "traceparent": "00-1-2-01", "append_group": "7"})
	for _, in := range []string{
		string(written),
		`{}`,
		`null`,
		``,
		`{"actor":"system:saga","tenant_id":"t1","correlation_id":"c","causation_id":"d","idempotency_key":"k","traceparent":"tp","other":"x"}`,
		`{"actor":"a","actor":"b"}`,
		`{"Actor":"upper case matches"}`,
		`{"TENANT_ID":"t"}`,
		`{"actor":"a\"b"}`,
		`{"actor":"\u00e9"}`,
		`{ "actor" : "spaced" }`,
		`{"actor":"a"} `,
		`{"actor":"a",}`,
		`{"actor":1}`,
		`{"actor":"a"}{}`,
		"{\"actor\":\"\xff\"}",
		"{\"actor\":\"tab\there\"}",
		`{"actor":"山田","ſactor":"long s"}`,
		`{"actor":"a","nested":{"b":"c"}}`,
		`{"actor"`,
		`{"actor":"a"`,
	} {
		var want Metadata
		wantErr := json.Unmarshal([]byte(in), &want)
		var got Metadata
		err := decodeMetadata([]byte(in), &got)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("%s: got %+v (%v), want %+v (%v)", in, got, err, want, wantErr)
		}
	}
}

// FuzzDecodeMetadata: for any bytes, decodeMetadata gives what
// json.Unmarshal gives — the fast path may only ever take inputs whose
// meaning it reads exactly. The seeds run in every go test.
func FuzzDecodeMetadata(f *testing.F) {
	for _, seed := range []string{`{}`, `{"actor":"a","tenant_id":"t"}`, `{"Actor":"x"}`, `{"actor":"a\"b"}`, "{\"actor\":\"\xff\"}", `{"actor":"a",}`, `{"a":"b","actor":"c"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want Metadata
		wantErr := json.Unmarshal(in, &want)
		var got Metadata
		err := decodeMetadata(in, &got)
		if (err != nil) != (wantErr != nil) || (wantErr == nil && got != want) {
			t.Errorf("%q: got %+v (%v), want %+v (%v)", in, got, err, want, wantErr)
		}
	})
}

// Every field of Metadata is a string the fast path knows by its JSON
// name: a field added to Metadata without teaching metadataField would
// otherwise be dropped silently on every read of the log (otherKey would
// take its key for an unknown one).
func TestDecodeMetadataKnowsEveryField(t *testing.T) {
	typ := reflect.TypeFor[Metadata]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() != reflect.String || name == "" || name == "-" {
			t.Errorf("Metadata.%s: want a string field with a JSON name, got %s %q", f.Name, f.Type, name)
			continue
		}
		var m Metadata
		if field := metadataField(&m, []byte(name)); field == nil {
			t.Errorf("Metadata.%s (%q): metadataField does not know it", f.Name, name)
		}
		if otherKey([]byte(name)) || otherKey([]byte(strings.ToUpper(name))) {
			t.Errorf("Metadata.%s (%q): otherKey takes it for an unknown key", f.Name, name)
		}
		in := []byte(`{"` + name + `":"x"}`)
		var got, want Metadata
		if err := decodeMetadata(in, &got); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(in, &want)
		if got != want || reflect.ValueOf(got).Field(i).String() != "x" {
			t.Errorf("%s: got %+v, want %+v", in, got, want)
		}
	}
}
