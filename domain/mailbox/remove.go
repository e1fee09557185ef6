package mailbox

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
)

// Remove removes mb from tenant t: the tenant forgets its address (R9,
// R10), and every grant's mirror on the user and group streams is revoked.
func Remove(t *tenant.State, mb *State) (domain.Changes, error) {
	if err := mb.mustExist(); err != nil {
		return nil, err
	}
	if t.ID() != mb.tenantID {
		return nil, domain.NotFound("mailbox")
	}
	tenantEvents, err := t.UnregisterMailbox(mb.id)
	if err != nil {
		return nil, err
	}
	var ch domain.Changes
	ch.Add(domain.StreamTenant, t.ID(), tenantEvents...)
	ch.Add(domain.StreamMailbox, mb.id, MailboxRemoved{MailboxID: mb.id, TenantID: mb.tenantID})
	for _, id := range mb.GrantedUserIDs() {
		_, userEvents := UserRevocation(mb, id)
		ch.Add(domain.StreamUser, id, userEvents...)
	}
	for _, id := range mb.GrantedGroupIDs() {
		_, groupEvents := GroupRevocation(mb, id)
		ch.Add(domain.StreamGroup, id, groupEvents...)
	}
	return ch, nil
}
