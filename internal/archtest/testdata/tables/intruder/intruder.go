package intruder

import "errors"

// rm_things in a comment is not a use.

var errParked = errors.New("a read model parked the command's events") // prose, not SQL

const index = "rm_things_idx" // another name that starts like the table

const metric = "absender.events.appended"

const planted = `UPDATE rm_things SET x = ?
	WHERE id IN (SELECT id FROM events)`

var table = "rm_things"
