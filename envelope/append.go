package envelope

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/absender/absender/eventstore"
)

// AppendJSON appends the envelope of rec as JSON — the same bytes as
// json.Marshal(From(rec)) — without reflection, for exports of millions of
// events.
func AppendJSON(dst []byte, rec eventstore.Record) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, rec.ID)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, rec.Type)
	dst = append(dst, `,"schemaVersion":`...)
	dst = strconv.AppendInt(dst, int64(rec.SchemaVersion), 10)
	dst = append(dst, `,"streamType":`...)
	dst = appendString(dst, rec.StreamType)
	dst = append(dst, `,"streamId":`...)
	dst = appendString(dst, rec.StreamID)
	dst = append(dst, `,"streamVersion":`...)
	dst = strconv.AppendInt(dst, rec.Version, 10)
	dst = append(dst, `,"position":"`...)
	dst = strconv.AppendInt(dst, rec.Position.Offset, 10)
	dst = append(dst, `","at":"`...)
	dst = rec.RecordedAt.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if md := rec.Metadata; md.TenantID != "" {
		dst = append(dst, `,"tenantId":`...)
		dst = appendString(dst, md.TenantID)
	}
	dst = append(dst, `,"actor":`...)
	dst = appendString(dst, rec.Metadata.Actor)
	if c := rec.Metadata.CorrelationID; c != "" {
		dst = append(dst, `,"correlationId":`...)
		dst = appendString(dst, c)
	}
	if c := rec.Metadata.CausationID; c != "" {
		dst = append(dst, `,"causationId":`...)
		dst = appendString(dst, c)
	}
	dst = append(dst, `,"data":`...)
	data := StripSecrets(rec.Data)
	if !safeRaw(data) { // not compact and HTML-escaped as json.Marshal writes it
		data, _ = json.Marshal(json.RawMessage(data))
	}
	dst = append(dst, data...)
	return append(dst, '}')
}

// appendString quotes s as encoding/json does (HTML-escaped); plain ASCII
// without special characters takes the fast path.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// safeRaw reports whether data is already in json.Marshal's form: no
// insignificant white space and no <, > or & to escape (data written by
// this store's json.Marshal always is).
func safeRaw(data []byte) bool {
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"' && (i == 0 || data[i-1] != '\\' || escapedQuote(data, i)):
			inString = !inString
		case !inString && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			return false
		case c == '<' || c == '>' || c == '&':
			return false
		case c >= utf8.RuneSelf:
			// U+2028 and U+2029 are escaped by encoding/json
			if r, _ := utf8.DecodeRune(data[i:]); r == '\u2028' || r == '\u2029' {
				return false
			}
		}
	}
	return true
}

// escapedQuote reports whether the backslashes before data[i] (a quote)
// are an even run, i.e. the quote is not escaped.
func escapedQuote(data []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
		n++
	}
	return n%2 == 0
}
