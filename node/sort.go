package node

import (
	"cmp"
	"slices"
)

// sortBy sorts s by the key of each element.
func sortBy[T any, K cmp.Ordered](s []T, key func(T) K) {
	slices.SortFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}
