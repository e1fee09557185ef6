package login

import "github.com/absender/absender/domain"

// LoginNameClaimed: the login name (as entered, trimmed) now belongs to UserID.
type LoginNameClaimed struct {
	LoginName string `json:"loginName"`
	UserID    string `json:"userId"`
}

// LoginNameReleased: UserID gave the login name up (user deleted).
type LoginNameReleased struct {
	LoginName string `json:"loginName"`
	UserID    string `json:"userId"`
}

func (LoginNameClaimed) EventName() string  { return "LoginNameClaimed.v1" }
func (LoginNameReleased) EventName() string { return "LoginNameReleased.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{LoginNameClaimed{}, LoginNameReleased{}}
}
