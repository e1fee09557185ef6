package eventstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Upcaster turns the data of one schema version of an event type into the
// data of the next version. Published events never change; old versions are
// read as new ones on every read path (Load, ReadAll, consumers).
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// Registry maps versioned event names to Go types and holds the upcasters.
// It is filled once at start-up and only read afterwards.
type Registry struct {
	types     map[string]reflect.Type // "MailboxAdded.v1" → struct type
	latest    map[string]int          // "MailboxAdded" → newest registered version
	upcasters map[string]Upcaster     // "MailboxAdded.v1" → to v2
}

// NewRegistry registers the given events (zero values) by their EventName.
func NewRegistry(events ...Event) (*Registry, error) {
	r := &Registry{
		types:     map[string]reflect.Type{},
		latest:    map[string]int{},
		upcasters: map[string]Upcaster{},
	}
	for _, e := range events {
		if err := r.Register(e); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds one event type.
func (r *Registry) Register(e Event) error {
	name := e.EventName()
	typ, ver, err := SplitName(name)
	if err != nil {
		return err
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("eventstore: event %s registered twice", name)
	}
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r.types[name] = t
	if ver > r.latest[typ] {
		r.latest[typ] = ver
	}
	return nil
}

// RegisterUpcaster adds the step from version from of typ to from+1.
func (r *Registry) RegisterUpcaster(typ string, from int, up Upcaster) {
	r.upcasters[fmt.Sprintf("%s.v%d", typ, from)] = up
}

// Names lists every registered versioned name.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.types))
	for n := range r.types {
		out = append(out, n)
	}
	return out
}

// Decode upcasts data from (typ, version) to the newest registered version
// and decodes it. It returns (nil, nil) for a type it does not know:
// consumers skip unknown events rather than fail on them.
func (r *Registry) Decode(typ string, version int, data json.RawMessage) (Event, error) {
	if r == nil {
		return nil, nil
	}
	latest, known := r.latest[typ]
	if !known {
		return nil, nil
	}
	for v := version; v < latest; v++ {
		up, ok := r.upcasters[fmt.Sprintf("%s.v%d", typ, v)]
		if !ok {
			return nil, fmt.Errorf("eventstore: no upcaster from %s.v%d", typ, v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("eventstore: upcast %s.v%d: %w", typ, v, err)
		}
		version = v + 1
	}
	t, ok := r.types[fmt.Sprintf("%s.v%d", typ, version)]
	if !ok {
		return nil, nil
	}
	ptr := reflect.New(t)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("eventstore: decode %s.v%d: %w", typ, version, err)
	}
	ev, ok := ptr.Elem().Interface().(Event)
	if !ok {
		if ev, ok = ptr.Interface().(Event); !ok {
			return nil, fmt.Errorf("eventstore: %s does not implement Event", t)
		}
	}
	return ev, nil
}

// SplitName splits "MailboxAdded.v1" into ("MailboxAdded", 1).
func SplitName(name string) (string, int, error) {
	i := strings.LastIndex(name, ".v")
	if i <= 0 {
		return "", 0, fmt.Errorf("eventstore: event name %q lacks a .v<N> version", name)
	}
	v, err := strconv.Atoi(name[i+2:])
	if err != nil || v < 1 {
		return "", 0, fmt.Errorf("eventstore: event name %q has a bad version", name)
	}
	return name[:i], v, nil
}
