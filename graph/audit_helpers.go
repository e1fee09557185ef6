package graph

import (
	"github.com/absender/absender/domain"
)

func pageSize(first *int) (int, error) {
	switch {
	case first == nil:
		return 50, nil
	case *first < 0 || *first > 500:
		return 0, domain.InvalidInput("first", "must be between 0 and 500")
	}
	return *first, nil
}
