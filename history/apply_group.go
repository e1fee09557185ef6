package history

import "github.com/absender/absender/domain/group"

// applyGroup evolves the groups and their members (R18).
func applyGroup() []applier {
	return []applier{
		on(func(m *Model, _ int64, e group.GroupCreated) {
			m.groups[e.GroupID] = map[string]bool{}
		}),
		on(func(m *Model, _ int64, e group.GroupDeleted) {
			for u := range m.groups[e.GroupID] {
				delete(m.userGroups[u], e.GroupID)
			}
			delete(m.groups, e.GroupID)
			for _, mb := range m.mailboxes {
				delete(mb.groups, e.GroupID)
			}
		}),
		on(func(m *Model, _ int64, e group.GroupMemberAdded) {
			if g := m.groups[e.GroupID]; g != nil {
				g[e.UserID] = true
				if m.userGroups[e.UserID] == nil {
					m.userGroups[e.UserID] = map[string]bool{}
				}
				m.userGroups[e.UserID][e.GroupID] = true
			}
		}),
		on(func(m *Model, _ int64, e group.GroupMemberRemoved) {
			delete(m.groups[e.GroupID], e.UserID)
			delete(m.userGroups[e.UserID], e.GroupID)
		}),
	}
}
