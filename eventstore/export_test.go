package eventstore

// ConsumerTxs is how many batch transactions the store's consumers began.
func (s *Store) ConsumerTxs() int64 { return s.consumerTxs.Load() }
