package envelope_test

import (
	"bufio"
	"encoding"
	"encoding/json"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/domain/catalog"
	"github.com/absender/absender/envelope"
)

// catalogue is the event catalogue for consumers outside the process.
const catalogue = "../docs/events.md"

// section is one "## " or "### " heading of the catalogue with the rows
// of its field tables.
type section struct {
	heading string
	line    int
	parent  *section // the "## " section a "### " section belongs to
	prose   strings.Builder
	rows    []row
}

// row is one line of a field table: | `json name` | type | meaning |.
type row struct {
	field, typ, text string
	line             int
}

type doc struct {
	top  map[string]*section // "## " sections by heading
	subs map[string]*section // "### " sections by heading
	dups []string
}

func parseCatalogue(t *testing.T) doc {
	t.Helper()
	f, err := os.Open(catalogue)
	if err != nil {
		t.Fatalf("open event catalogue: %v", err)
	}
	defer f.Close()
	d := doc{top: map[string]*section{}, subs: map[string]*section{}}
	var cur, parent *section
	inTable := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "### "):
			cur = &section{heading: strings.TrimSpace(line[4:]), line: n, parent: parent}
			if _, dup := d.subs[cur.heading]; dup {
				d.dups = append(d.dups, cur.heading)
			}
			d.subs[cur.heading] = cur
		case strings.HasPrefix(line, "## "):
			cur = &section{heading: strings.TrimSpace(line[3:]), line: n}
			parent = cur
			if _, dup := d.top[cur.heading]; dup {
				d.dups = append(d.dups, cur.heading)
			}
			d.top[cur.heading] = cur
		case cur == nil:
		case strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if !inTable { // header row
				inTable = true
				continue
			}
			if strings.Trim(cells[0], "-: ") == "" { // separator row
				continue
			}
			r := row{field: strings.Trim(cells[0], "`"), text: line, line: n}
			if len(cells) > 1 {
				r.typ = strings.Trim(cells[1], "`")
			}
			cur.rows = append(cur.rows, r)
			continue
		default:
			cur.prose.WriteString(line + "\n")
		}
		inTable = false
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read event catalogue: %v", err)
	}
	return d
}

// jsonField is one top-level JSON field of a Go struct, as encoding/json
// writes it.
type jsonField struct {
	name      string
	typ       reflect.Type
	omittable bool // omitempty or omitzero: may be absent
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && deref(f.Type).Kind() == reflect.Struct {
			out = append(out, jsonFields(deref(f.Type))...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		o := strings.Split(opts, ",")
		out = append(out, jsonField{name: name, typ: f.Type,
			omittable: slices.Contains(o, "omitempty") || slices.Contains(o, "omitzero")})
	}
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// object reports whether t is written as a JSON object documented in a
// section of its own (ServerSettings, Policy), returning that type.
func object(t reflect.Type) (reflect.Type, bool) {
	t = deref(t)
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		return object(t.Elem())
	}
	if t.Kind() != reflect.Struct || t == timeType || t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return nil, false
	}
	return t, true
}

// jsonType is how the catalogue names the JSON type of t.
func jsonType(t reflect.Type) string {
	t = deref(t)
	switch {
	case t == rawMessageType:
		return "object"
	case t == timeType, t.Implements(textMarshalerType), reflect.PointerTo(t).Implements(textMarshalerType):
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonType(t.Elem())
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

// checkTable compares a documented field table with the JSON fields of
// typ: the same names, each with its JSON type, "omitted" exactly for
// fields that may be absent, "(removed in the public envelope)" exactly for
// secrets, and a reference to the section of every nested object.
func checkTable(t *testing.T, what string, s *section, typ reflect.Type) {
	t.Helper()
	fields := jsonFields(typ)
	var want []string
	for _, f := range fields {
		want = append(want, f.name)
	}
	var got []string
	byName := map[string]row{}
	for _, r := range s.rows {
		if _, dup := byName[r.field]; dup {
			t.Errorf("%s (%s:%d): field %q is listed twice", what, catalogue, r.line, r.field)
		}
		got = append(got, r.field)
		byName[r.field] = r
	}
	if missing, extra := diff(want, got); len(missing)+len(extra) > 0 {
		t.Errorf("%s (%s:%d): fields differ: missing %v, extra %v; got %v, want %v",
			what, catalogue, s.line, missing, extra, got, want)
	}
	for _, f := range fields {
		r, ok := byName[f.name]
		if !ok {
			continue
		}
		if w := jsonType(f.typ); r.typ != w {
			t.Errorf("%s field %s (%s:%d): got type %q, want %q", what, f.name, catalogue, r.line, r.typ, w)
		}
		if deref(f.typ) == timeType && !strings.Contains(r.text, "RFC 3339") {
			t.Errorf("%s field %s (%s:%d): a time, want it described as RFC 3339", what, f.name, catalogue, r.line)
		}
		if got := strings.Contains(strings.ToLower(r.text), "omitted"); got != f.omittable {
			t.Errorf("%s field %s (%s:%d): row says \"omitted\": got %v, want %v (json tag omitempty/omitzero)",
				what, f.name, catalogue, r.line, got, f.omittable)
		}
		if got, want := strings.Contains(r.text, "(removed in the public envelope)"), envelope.IsSecret(f.name); got != want {
			t.Errorf("%s field %s (%s:%d): row says \"(removed in the public envelope)\": got %v, want %v (envelope.IsSecret)",
				what, f.name, catalogue, r.line, got, want)
		}
		if obj, ok := object(f.typ); ok && deref(f.typ) != rawMessageType && !strings.Contains(r.text, "["+obj.Name()+"](#"+strings.ToLower(obj.Name())+")") {
			t.Errorf("%s field %s (%s:%d): want a link [%s](#%s) to the shared object",
				what, f.name, catalogue, r.line, obj.Name(), strings.ToLower(obj.Name()))
		}
	}
}

// diff returns the names in want but not got, and in got but not want.
func diff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// sharedObjects returns the nested object types reachable from the events'
// fields, by name.
func sharedObjects() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for _, f := range jsonFields(t) {
			if obj, ok := object(f.typ); ok {
				if _, seen := out[obj.Name()]; !seen {
					out[obj.Name()] = obj
					walk(obj)
				}
			}
		}
	}
	for _, e := range catalog.Events() {
		walk(deref(reflect.TypeOf(e)))
	}
	return out
}

// TestEventCatalogueDocumentsEveryEvent fails when a registered event type
// has no "### <Name>.v<N>" section in docs/events.md, sits under the wrong
// aggregate, or its field table differs from the event's JSON fields.
func TestEventCatalogueDocumentsEveryEvent(t *testing.T) {
	d := parseCatalogue(t)
	for _, e := range catalog.Events() {
		name := e.EventName()
		t.Run(name, func(t *testing.T) {
			s, ok := d.subs[name]
			if !ok {
				t.Fatalf("%s (%T) is registered but has no \"### %s\" section in %s", name, e, name, catalogue)
			}
			typ := deref(reflect.TypeOf(e))
			// The aggregate's package name is its stream type.
			stream := path.Base(typ.PkgPath())
			if s.parent == nil || !strings.Contains(s.parent.prose.String(), "Stream type `"+stream+"`") {
				var got string
				if s.parent != nil {
					got = s.parent.heading
				}
				t.Errorf("%s (%s:%d): got under section %q, want under the section saying \"Stream type `%s`\"",
					name, catalogue, s.line, got, stream)
			}
			checkTable(t, name, s, typ)
		})
	}
}

// TestEventCatalogueSharedObjects checks the once-documented nested objects
// (ServerSettings, Policy) like events.
func TestEventCatalogueSharedObjects(t *testing.T) {
	d := parseCatalogue(t)
	for name, typ := range sharedObjects() {
		t.Run(name, func(t *testing.T) {
			s, ok := d.subs[name]
			if !ok {
				t.Fatalf("object %s (%s) is used in events but has no \"### %s\" section in %s", name, typ, name, catalogue)
			}
			checkTable(t, name, s, typ)
		})
	}
}

// TestEventCatalogueHasNoStaleSections fails when docs/events.md documents
// an event type that is not registered (or an object no event uses), or a
// heading twice.
func TestEventCatalogueHasNoStaleSections(t *testing.T) {
	d := parseCatalogue(t)
	if len(d.dups) > 0 {
		t.Errorf("got headings %v more than once in %s, want each once", d.dups, catalogue)
	}
	known := map[string]bool{}
	for _, e := range catalog.Events() {
		known[e.EventName()] = true
	}
	for name := range sharedObjects() {
		known[name] = true
	}
	for heading, s := range d.subs {
		if !known[heading] {
			t.Errorf("%s:%d: section %q is neither a registered event type nor a shared object of one (stale?)",
				catalogue, s.line, heading)
		}
	}
}

// TestEventCatalogueEnvelope fails when the "## Envelope" section's table
// differs from the JSON fields of envelope.Envelope.
func TestEventCatalogueEnvelope(t *testing.T) {
	d := parseCatalogue(t)
	s, ok := d.top["Envelope"]
	if !ok {
		t.Fatalf("no \"## Envelope\" section in %s", catalogue)
	}
	checkTable(t, "Envelope", s, reflect.TypeFor[envelope.Envelope]())
}

// TestEventCatalogueParserSeesTables guards the parser itself: an empty
// parse would make the checks above vacuous.
func TestEventCatalogueParserSeesTables(t *testing.T) {
	d := parseCatalogue(t)
	s, ok := d.subs["MailboxAdded.v1"]
	if !ok {
		t.Fatal("no MailboxAdded.v1 section")
	}
	got := make([]string, 0, len(s.rows))
	for _, r := range s.rows {
		got = append(got, r.field)
	}
	want := []string{"mailboxId", "tenantId", "address", "addressKey", "displayName", "sender", "replyTo", "global", "settings"}
	if !slices.Equal(got, want) {
		t.Fatalf("got fields %v, want %v", got, want)
	}
}
