package search

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// naiveOSA is the textbook full-table optimal string alignment distance.
func naiveOSA(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func naivePrefix(q, t []rune) int {
	best := len(q)
	for i := 0; i <= len(t); i++ {
		best = min(best, naiveOSA(q, t[:i]))
	}
	return best
}

// alphabet mixes ASCII, Latin with diacritics, CJK, and a rune outside the
// BMP, so that a byte-counting implementation gives different answers.
var alphabet = []rune("abcaé漢ß🙂")

func randomRunes(r *rand.Rand, maxLen int) []rune {
	out := make([]rune, r.IntN(maxLen+1))
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return out
}

// mutate applies up to n random edits (insert, delete, substitute,
// transpose) to w.
func mutate(r *rand.Rand, w []rune, n int) []rune {
	w = append([]rune(nil), w...)
	for range n {
		switch op := r.IntN(4); {
		case op == 0:
			i := r.IntN(len(w) + 1)
			w = append(w[:i], append([]rune{alphabet[r.IntN(len(alphabet))]}, w[i:]...)...)
		case op == 1 && len(w) > 0:
			i := r.IntN(len(w))
			w = append(w[:i], w[i+1:]...)
		case op == 2 && len(w) > 0:
			w[r.IntN(len(w))] = alphabet[r.IntN(len(alphabet))]
		case op == 3 && len(w) > 1:
			i := r.IntN(len(w) - 1)
			w[i], w[i+1] = w[i+1], w[i]
		}
	}
	return w
}

func TestDistanceMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a := randomRunes(r, 9)
		var b []rune
		if r.IntN(2) == 0 {
			b = mutate(r, a, r.IntN(4))
		} else {
			b = randomRunes(r, 9)
		}
		want := naiveOSA(a, b)
		if got := Distance(string(a), string(b)); got != want {
			t.Fatalf("Distance(%q, %q) = %d; want %d", string(a), string(b), got, want)
		}
		for k := range 5 {
			if got := osa(a, b, k); got != min(want, k+1) {
				t.Fatalf("osa(%q, %q, %d) = %d; want %d", string(a), string(b), k, got, min(want, k+1))
			}
			if got, want := prefixOSA(a, b, k), min(naivePrefix(a, b), k+1); got != want {
				t.Fatalf("prefixOSA(%q, %q, %d) = %d; want %d", string(a), string(b), k, got, want)
			}
		}
	}
}

func TestDistanceCountsRunes(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"airprot", "airport", 1},
		{"", "", 0},
		{"", "漢字", 2},
		{"café", "cafe", 1}, // one rune differs, two bytes
		{"🙂a", "a🙂", 1},     // transposition of a 4-byte rune
		{"ca", "abc", 3},    // optimal string alignment, not full Damerau (2)
		{"Zürich", "Zurich", 1},
		{"kitten", "sitting", 3},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", c.a, c.b, got, c.want)
		}
	}
}

func FuzzDistance(f *testing.F) {
	f.Add("airprot", "airport")
	f.Add("café", "cafe")
	f.Add("🙂a", "a🙂")
	f.Add("", "abc")
	f.Add("\xff\xfe", "a\x80")
	f.Fuzz(func(t *testing.T, a, b string) {
		if utf8.RuneCountInString(a) > 64 || utf8.RuneCountInString(b) > 64 {
			return
		}
		ra, rb := []rune(a), []rune(b)
		want := naiveOSA(ra, rb)
		got := Distance(a, b)
		if got != want {
			t.Fatalf("Distance(%q, %q) = %d; want %d", a, b, got, want)
		}
		if back := Distance(b, a); back != got {
			t.Fatalf("Distance not symmetric: %d and %d", got, back)
		}
		if got > max(len(ra), len(rb)) {
			t.Fatalf("Distance(%q, %q) = %d exceeds the longer length", a, b, got)
		}
		for k := range 4 {
			if g := osa(ra, rb, k); g != min(want, k+1) {
				t.Fatalf("osa(%q, %q, %d) = %d; want %d", a, b, k, g, min(want, k+1))
			}
		}
		if len(ra) <= 12 && len(rb) <= 12 {
			if g, w := prefixOSA(ra, rb, 3), min(naivePrefix(ra, rb), 4); g != w {
				t.Fatalf("prefixOSA(%q, %q, 3) = %d; want %d", a, b, g, w)
			}
		}
	})
}

func TestTypoWeight(t *testing.T) {
	w := func(q, tm string) int { return typoWeight([]rune(q), []rune(tm), false) }
	cases := []struct {
		q, t string
		want int
	}{
		{"same", "same", 0},
		{"begining", "beginning", wDoubled},
		{"seperate", "separate", wVowel},
		{"airprot", "airport", wSwap},
		{"hwllo", "hello", wNeighbour}, // w is next to e
		{"hpllo", "hello", wEdit},
		{"teh", "the", wSwap},
		{"fomr", "from", wMove},           // r typed two places late
		{"recations", "creations", wMove}, // c typed two places late
		{"kwno", "know", wMove},           // w typed two places early
		{"bargaing", "bargaining", wPair}, // "in" once instead of twice
		{"bananana", "banana", wPair},     // "na" once too often
		{"abc", "bca", wMove},
		{"abc", "cba", 2 * wEdit},
	}
	for _, c := range cases {
		if got := w(c.q, c.t); got != c.want {
			t.Errorf("typoWeight(%q, %q) = %d; want %d", c.q, c.t, got, c.want)
		}
	}
	if !neighbours('q', 'w') || !neighbours('s', 'w') || !neighbours('z', 'a') || neighbours('q', 'p') || neighbours('a', 'c') {
		t.Error("keyboard neighbours wrong")
	}
	if got := typoWeight([]rune("airp"), []rune("airport"), true); got != 0 {
		t.Errorf("prefix weight of airp in airport = %d; want 0", got)
	}
}

// FuzzTokenize checks that words are non-empty runs of letters and digits,
// already folded (tokenizing them again changes nothing), at most
// maxWordRunes long.
func FuzzTokenize(f *testing.F) {
	f.Add("L'Hôtel ZÜRICH—Crème brûlée, 42 東京!")
	f.Add("\xff\u0130\u0301a")
	f.Fuzz(func(t *testing.T, s string) {
		words := Tokenize(s)
		for _, w := range words {
			if w == "" || utf8.RuneCountInString(w) > maxWordRunes {
				t.Fatalf("bad word %q", w)
			}
			if again := Tokenize(w); len(again) != 1 || again[0] != w {
				t.Fatalf("Tokenize(%q) = %q; want it unchanged", w, again)
			}
		}
	})
}
