package eventstore

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeMetadata fills m from the metadata column: a flat JSON object of
// strings, as insertArgs writes it. Objects without escapes, white space or
// keys that differ from Metadata's only in case are read in one pass
// (reading the metadata of every event through encoding/json was the
// largest cost of an export after the database itself); anything else goes
// through json.Unmarshal, so the result is always what json.Unmarshal
// gives.
func decodeMetadata(b []byte, m *Metadata) error {
	if metadataFast(b, m) {
		return nil
	}
	*m = Metadata{}
	return json.Unmarshal(b, m)
}

// metadataFast reads b into m and reports whether it could; when it could
// not, m is left partly filled for decodeMetadata to reset.
func metadataFast(b []byte, m *Metadata) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	i := 1
	if b[i] == '}' {
		return i+1 == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok || next >= len(b) || b[next] != ':' {
			return false
		}
		val, next, ok := plainString(b, next+1)
		if !ok || next >= len(b) {
			return false
		}
		if field := metadataField(m, key); field != nil {
			*field = string(val)
		} else if !otherKey(key) {
			return false
		}
		switch b[next] {
		case ',':
			i = next + 1
		case '}':
			return next+1 == len(b)
		default:
			return false
		}
	}
}

// plainString reads the JSON string starting at b[i] when it has no escape
// and no control character and is valid UTF-8 (so its bytes are its value),
// returning its contents and the index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, 0, false
	}
	s := b[i+1 : i+1+end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, 0, false
		}
	}
	if !utf8.Valid(s) {
		return nil, 0, false
	}
	return s, i + end + 2, true
}

// metadataField is the field of m that key names exactly.
func metadataField(m *Metadata, key []byte) *string {
	switch string(key) {
	case "actor":
		return &m.Actor
	case "tenant_id":
		return &m.TenantID
	case "correlation_id":
		return &m.CorrelationID
	case "causation_id":
		return &m.CausationID
	case "idempotency_key":
		return &m.IdempotencyKey
	case "traceparent":
		return &m.TraceParent
	}
	return nil
}

// otherKey reports whether key names no field of Metadata, not even as
// json.Unmarshal matches names (ignoring case); a key that is not plain
// ASCII is left to json.Unmarshal.
func otherKey(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, name := range [...]string{"actor", "tenant_id", "correlation_id", "causation_id", "idempotency_key", "traceparent"} {
		if bytes.EqualFold(key, []byte(name)) {
			return false
		}
	}
	return true
}
