package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// latencies are per-operation times, kept in the order measured.
type latencies []time.Duration

// quantile returns the nearest-rank quantile q (0 to 1) of d, 0 when d is empty.
func (d latencies) quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d latencies) max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// fine formats a short duration in µs below a millisecond and in ms with two decimals
// above, for figures that ms would round to zero.
func fine(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
