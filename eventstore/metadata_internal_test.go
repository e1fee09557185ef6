package eventstore

import (
	"encoding/json"
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
