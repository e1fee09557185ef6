package graph

import (
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/graph/model"
	"github.com/absender/absender/projections"
)

// Connections (SPEC §4): Relay's shape, first/after/search, totalCount.
// Directory lists page by key (projections.Key: folded name, then id), so
// a cursor is the key of the edge's row, with the kind of list it belongs
// to, base64url-encoded: opaque to clients, checked when it comes back.
// Pages go forward only: hasPreviousPage is true when after was given.

// cursorKind names the list a cursor belongs to; a cursor of another
// list is refused.
type cursorKind string

const (
	tenantCursor  cursorKind = "tenant"
	userCursor    cursorKind = "user"
	groupCursor   cursorKind = "group"
	mailboxCursor cursorKind = "mailbox"

	// maxSearch bounds a search text in code points.
	maxSearch = 200
	// maxCursor bounds a cursor as received (a key is a folded name of
	// at most a few hundred code points and an id).
	maxCursor = 4096
)

func encodeCursor(kind cursorKind, k projections.Key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + "\x00" + k.Sort + "\x00" + k.ID))
}

// decodeCursor reads an after argument of a list of kind: INVALID_INPUT
// naming after when it is not a cursor of this kind of list.
func decodeCursor(kind cursorKind, s string) (projections.Key, error) {
	bad := domain.InvalidInput("after", "not a cursor of this connection")
	if len(s) > maxCursor {
		return projections.Key{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(raw) {
		return projections.Key{}, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[0] != string(kind) || parts[2] == "" || projections.Fold(parts[1]) != parts[1] {
		return projections.Key{}, bad
	}
	return projections.Key{Sort: parts[1], ID: parts[2]}, nil
}

// pageArgs checks first, after and search of a directory list (in that
// order) and turns them into the reader's page.
func pageArgs(kind cursorKind, first *int, after, search *string) (projections.Page, error) {
	n, err := pageSize(first)
	if err != nil {
		return projections.Page{}, err
	}
	p := projections.Page{First: n}
	if after != nil {
		k, err := decodeCursor(kind, *after)
		if err != nil {
			return projections.Page{}, err
		}
		p.After = &k
	}
	if search != nil {
		if err := domain.CheckLine("search", *search, maxSearch); err != nil {
			return projections.Page{}, err
		}
		p.Search = *search
	}
	return p, nil
}

// edges turns up to p.First+1 rows read into one page: the rows of the
// page with their cursors, and its PageInfo.
func edges[R interface{ Key() projections.Key }](kind cursorKind, p projections.Page, rows []R) ([]R, []string, *model.PageInfo) {
	info := &model.PageInfo{HasPreviousPage: p.After != nil, HasNextPage: len(rows) > p.First}
	if len(rows) > p.First {
		rows = rows[:p.First]
	}
	cursors := make([]string, len(rows))
	for i, r := range rows {
		cursors[i] = encodeCursor(kind, r.Key())
	}
	if n := len(cursors); n > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[n-1]
	}
	return rows, cursors, info
}

// pageInMemory pages a list that is computed whole (mailboxAccess): sorted
// by key, after applied, up to p.First+1 rows kept, as the reader pages.
func pageInMemory[R interface{ Key() projections.Key }](rows []R, p projections.Page) []R {
	slicesSortByKey(rows)
	start := 0
	if p.After != nil {
		for start < len(rows) && !p.After.Less(rows[start].Key()) {
			start++
		}
	}
	rows = rows[start:]
	if len(rows) > p.First+1 {
		rows = rows[:p.First+1]
	}
	return rows
}

func emptyPageInfo(after *string) *model.PageInfo {
	return &model.PageInfo{HasPreviousPage: after != nil}
}

func userConnection(p projections.Page, rows []projections.UserRow, total int) *model.UserConnection {
	rows, cursors, info := edges(userCursor, p, rows)
	c := &model.UserConnection{Edges: make([]model.UserEdge, len(rows)), PageInfo: info, TotalCount: total}
	for i, u := range rows {
		c.Edges[i] = model.UserEdge{Cursor: cursors[i], Node: userModel(u)}
	}
	return c
}

func emptyUsers(after *string) *model.UserConnection {
	return &model.UserConnection{Edges: []model.UserEdge{}, PageInfo: emptyPageInfo(after)}
}

func slicesSortByKey[R interface{ Key() projections.Key }](rows []R) {
	slices.SortFunc(rows, func(a, b R) int {
		ka, kb := a.Key(), b.Key()
		switch {
		case ka.Less(kb):
			return -1
		case kb.Less(ka):
			return 1
		}
		return 0
	})
}
