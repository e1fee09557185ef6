// Package decidertest helps write given-events / when-command /
// then-events-or-error tests for the domain's aggregates.
package decidertest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/absender/absender/domain"
)

// Given rebuilds a state by applying events to its zero value.
func Given[S any, P interface {
	*S
	Apply(domain.Event)
}](events ...domain.Event) P {
	p := P(new(S))
	for _, e := range events {
		p.Apply(e)
	}
	return p
}

// Apply applies events to an existing state and returns it.
func Apply[P interface{ Apply(domain.Event) }](p P, events ...domain.Event) P {
	for _, e := range events {
		p.Apply(e)
	}
	return p
}

// ThenEvents fails unless err is nil and got equals want.
func ThenEvents(t *testing.T, got []domain.Event, err error, want ...domain.Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("got error %v, want events %#v", err, want)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got events %#v, want %#v", got, want)
	}
}

// ThenError fails unless err matches want (errors.Is) and no events came.
// When field is not empty the *domain.Error must name it.
func ThenError(t *testing.T, events []domain.Event, err error, want error, field string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if len(events) != 0 {
		t.Fatalf("got events %#v with error, want none", events)
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %T, want *domain.Error", err)
	}
	if field != "" && de.Field != field {
		t.Fatalf("got field %q, want %q", de.Field, field)
	}
}

// Unchanged fails unless state equals the state rebuilt from given: a
// refused (or any) command must not touch the state.
func Unchanged[S any, P interface {
	*S
	Apply(domain.Event)
}](t *testing.T, state P, given ...domain.Event) {
	t.Helper()
	if want := Given[S, P](given...); !reflect.DeepEqual(state, want) {
		t.Fatalf("command changed the state: got %+v, want %+v", *state, *want)
	}
}
