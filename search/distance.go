package search

// Distance returns the optimal string alignment distance between a and b,
// counted in runes: the least number of single-rune insertions, deletions,
// substitutions and transpositions of two adjacent runes that turns a into
// b, where no substring is edited more than once ("airprot" is one
// transposition away from "airport"). Strings that are not valid UTF-8 are
// compared rune by rune as range over string decodes them.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	return osa(ra, rb, len(ra)+len(rb))
}

// osa returns the optimal string alignment distance between a and b when it
// is at most k, and k+1 otherwise. It stops as soon as two consecutive rows
// of the table exceed k, since a transposition reaches back two rows.
func osa(a, b []rune, k int) int {
	if d := len(a) - len(b); d > k || -d > k {
		return k + 1
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	n := len(b)
	if n == 0 {
		return min(len(a), k+1)
	}
	var stack [3 * 33]int
	var rows []int
	if 3*(n+1) <= len(stack) {
		rows = stack[:3*(n+1)]
	} else {
		rows = make([]int, 3*(n+1))
	}
	prev2, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):]
	for j := range prev {
		prev[j] = j
	}
	prevMin := 0
	for i := 1; i <= len(a); i++ {
		ai := a[i-1]
		cur[0] = i
		rowMin := i
		for j := 1; j <= n; j++ {
			bj := b[j-1]
			cost := 1
			if ai == bj {
				cost = 0
			}
			v := prev[j-1] + cost
			if d := prev[j] + 1; d < v {
				v = d
			}
			if d := cur[j-1] + 1; d < v {
				v = d
			}
			if i > 1 && j > 1 && ai == b[j-2] && a[i-2] == bj {
				if d := prev2[j-2] + 1; d < v {
					v = d
				}
			}
			cur[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		if rowMin > k && prevMin > k {
			return k + 1
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[n], k+1)
}

// prefixOSA returns the least optimal string alignment distance between q
// and any prefix of t (the empty one and t itself included) when it is at
// most k, and k+1 otherwise: the typo cost of t as a completion of q.
func prefixOSA(q, t []rune, k int) int {
	n := len(q)
	if n == 0 {
		return 0
	}
	rows := make([]int, 3*(n+1))
	prev2, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):]
	for j := range prev {
		prev[j] = j
	}
	best := prev[n]
	prevMin := 0
	for i := 1; i <= len(t); i++ {
		rowMin := nextRow(q, t[i-1], i, i > 1, prevRune(t, i), prev2, prev, cur)
		if cur[n] < best {
			best = cur[n]
		}
		if rowMin >= best && prevMin >= best {
			break
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	return min(best, k+1)
}

func prevRune(t []rune, i int) rune {
	if i >= 2 {
		return t[i-2]
	}
	return -1
}

// nextRow fills cur, the row of the optimal string alignment table for the
// i-th rune c of a term against the query q, from the two rows above it, and
// returns the row's minimum. hasPrev tells whether the term has a rune p
// before c (for transpositions).
func nextRow(q []rune, c rune, i int, hasPrev bool, p rune, prev2, prev, cur []int) int {
	cur[0] = i
	rowMin := i
	for j := 1; j <= len(q); j++ {
		qj := q[j-1]
		cost := 1
		if c == qj {
			cost = 0
		}
		v := prev[j-1] + cost
		if d := prev[j] + 1; d < v {
			v = d
		}
		if d := cur[j-1] + 1; d < v {
			v = d
		}
		if hasPrev && j > 1 && c == q[j-2] && p == qj {
			if d := prev2[j-2] + 1; d < v {
				v = d
			}
		}
		cur[j] = v
		if v < rowMin {
			rowMin = v
		}
	}
	return rowMin
}
