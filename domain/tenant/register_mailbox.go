package tenant

import "github.com/absender/absender/domain"

// RegisterMailbox records a new mailbox of the tenant. It is the tenant
// half of mailbox.Add and enforces R9 (address unique within the tenant:
// ALREADY_EXISTS, field address) and then R10 (at most mailboxQuota
// mailboxes: QUOTA_EXCEEDED). See the package comment for why this is
// race-free.
func (s *State) RegisterMailbox(mailboxID string, address domain.Address) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	key := address.Key()
	for id, k := range s.mailboxes {
		if k == key || id == mailboxID {
			return nil, domain.AlreadyExists("address", "the tenant already has a mailbox with this address")
		}
	}
	if len(s.mailboxes) >= s.policy.MailboxQuota {
		return nil, domain.QuotaExceeded("the tenant's mailbox quota is used up")
	}
	return []domain.Event{TenantMailboxRegistered{TenantID: s.id, MailboxID: mailboxID, Address: address.String(), AddressKey: key}}, nil
}

// UnregisterMailbox is the tenant half of mailbox.Remove.
func (s *State) UnregisterMailbox(mailboxID string) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if !s.HasMailbox(mailboxID) {
		return nil, domain.NotFound("mailbox")
	}
	return []domain.Event{TenantMailboxUnregistered{TenantID: s.id, MailboxID: mailboxID}}, nil
}
