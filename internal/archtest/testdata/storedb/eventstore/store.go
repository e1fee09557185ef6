package eventstore

type Store struct{ db int }

// DB may be called inside the owning package.
func (s *Store) DB() int { return s.db }

func (s *Store) own() int { return s.DB() }
