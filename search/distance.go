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
// is at most k, and k+1 otherwise. Only the band of cells within k of the
// diagonal is computed (a path leaving it costs more than k), and it stops
// as soon as two consecutive rows exceed k, since a transposition reaches
// back two rows.
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
	inf := k + 1
	var stack [3 * 33]int
	var rows []int
	if 3*(n+1) <= len(stack) {
		rows = stack[:3*(n+1)]
	} else {
		rows = make([]int, 3*(n+1))
	}
	prev2, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):]
	for j := range prev {
		prev[j] = min(j, inf)
	}
	prevMin := 0
	for i := 1; i <= len(a); i++ {
		ai := a[i-1]
		lo, hi := max(1, i-k), min(n, i+k)
		if lo == 1 {
			cur[0] = min(i, inf)
		} else {
			cur[lo-1] = inf
		}
		rowMin := inf
		for j := lo; j <= hi; j++ {
			bj := b[j-1]
			v := prev[j-1]
			if ai != bj {
				v++
			}
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
			v = min(v, inf)
			cur[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		if hi < n {
			cur[hi+1] = inf
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

// Weights of the typo model that orders candidates with the same number of
// typos, in tenths of a typo. Misspellings are more often a doubled or
// undoubled letter, a vowel for another vowel, a neighbouring key or two
// swapped letters than an arbitrary edit.
const (
	wEdit      = 10 // any insertion, deletion or substitution
	wDoubled   = 5  // inserting or deleting a letter next to the same letter
	wVowel     = 6  // one vowel for another
	wNeighbour = 7  // a key next to the intended one (QWERTY)
	wSwap      = 7  // two adjacent letters swapped
	wMove      = 12 // a letter moved by two places (three rotated)
	wPair      = 10 // a repeated pair of letters typed once or twice

	wLastLetter = 5 // added when the last letters differ (see expand)
)

func isVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// keyRow and keyCol give the row (0 top) and column ('a' first) of the
// letters a to z on a QWERTY keyboard.
const (
	keyRow = "12210111011122000010020202"
	keyCol = "aecccdefhghigfijadbegdbbfa"
)

func keyPos(r rune) (row, col int, ok bool) {
	if r < 'a' || r > 'z' {
		return 0, 0, false
	}
	return int(keyRow[r-'a'] - '0'), int(keyCol[r-'a'] - 'a'), true
}

func neighbours(a, b rune) bool {
	ra, ca, ok1 := keyPos(a)
	rb, cb, ok2 := keyPos(b)
	if !ok1 || !ok2 {
		return false
	}
	// Rows are staggered by about half a key.
	d := ca - cb
	switch ra - rb {
	case 0:
		return d == 1 || d == -1
	case 1: // a one row below b
		return d == 0 || d == -1
	case -1:
		return d == 0 || d == 1
	}
	return false
}

func substWeight(a, b rune) int {
	switch {
	case isVowel(a) && isVowel(b):
		return wVowel
	case neighbours(a, b):
		return wNeighbour
	}
	return wEdit
}

// typoWeight is the optimal string alignment distance of q and t with the
// weights of the typo model, in tenths. With prefix set it is the least
// weight of q against any prefix of t. Besides the edits of [Distance], it
// knows two slips of typing that distance counts as two typos: a letter
// typed one place late or early ("fomr" for "from": three letters
// rotated) and a repeated pair of letters typed once or twice
// ("bargaing" for "bargaining").
func typoWeight(q, t []rune, prefix bool) int {
	n := len(q)
	var stack [4 * 49]int
	var rows []int
	if 4*(n+1) <= len(stack) {
		rows = stack[:4*(n+1)]
	} else {
		rows = make([]int, 4*(n+1))
	}
	prev3, prev2, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):3*(n+1)], rows[3*(n+1):]
	prev[0] = 0
	for j := 1; j <= n; j++ {
		prev[j] = prev[j-1] + indelWeight(q, j-1)
		if j >= 2 && repeatedPair(q, j-2) {
			prev[j] = min(prev[j], prev[j-2]+wPair)
		}
	}
	best := prev[n]
	for i := 1; i <= len(t); i++ {
		c := t[i-1]
		cur[0] = prev[0] + indelWeight(t, i-1)
		if i >= 2 && repeatedPair(t, i-2) {
			cur[0] = min(cur[0], prev2[0]+wPair)
		}
		for j := 1; j <= n; j++ {
			qj := q[j-1]
			v := prev[j-1]
			if c != qj {
				v += substWeight(qj, c)
			}
			v = min(v, prev[j]+indelWeight(t, i-1), cur[j-1]+indelWeight(q, j-1))
			if i > 1 && j > 1 && c == q[j-2] && t[i-2] == qj && c != qj {
				v = min(v, prev2[j-2]+wSwap)
			}
			if i >= 2 && repeatedPair(t, i-2) {
				v = min(v, prev2[j]+wPair)
			}
			if j >= 2 && repeatedPair(q, j-2) {
				v = min(v, cur[j-2]+wPair)
			}
			if i >= 3 && j >= 3 && rotated(q[j-3:j], t[i-3:i]) {
				v = min(v, prev3[j-3]+wMove)
			}
			cur[j] = v
		}
		if prefix {
			best = min(best, cur[n])
		}
		prev3, prev2, prev, cur = prev2, prev, cur, prev3
	}
	if prefix {
		return best
	}
	return prev[n]
}

// repeatedPair reports whether w[i], w[i+1] repeat the two runes just
// before or just after them.
func repeatedPair(w []rune, i int) bool {
	a, b := w[i], w[i+1]
	return (i >= 2 && w[i-2] == a && w[i-1] == b) || (i+3 < len(w) && w[i+2] == a && w[i+3] == b)
}

// rotated reports whether a is b with its first rune moved to the end or
// its last rune moved to the front, and not b itself.
func rotated(a, b []rune) bool {
	if a[0] == b[0] && a[1] == b[1] && a[2] == b[2] {
		return false
	}
	return (a[0] == b[1] && a[1] == b[2] && a[2] == b[0]) || (a[0] == b[2] && a[1] == b[0] && a[2] == b[1])
}

// indelWeight is the weight of inserting or deleting w[i]: cheap when a
// neighbour is the same letter.
func indelWeight(w []rune, i int) int {
	if (i > 0 && w[i-1] == w[i]) || (i+1 < len(w) && w[i+1] == w[i]) {
		return wDoubled
	}
	return wEdit
}
