package search

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLookupMatchesBruteForce checks the symmetric-delete index and the
// sorted walk against a scan of the whole dictionary computing the distance
// of every term, on random words with non-ASCII runes, for whole words and
// prefixes, with prefix lengths short enough for the delete variants to be
// cut.
func TestLookupMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var vocab [][]rune
	for range 1000 {
		if w := randomRunes(r, 10); len(w) > 0 {
			vocab = append(vocab, w)
		}
	}
	for _, mode := range []TypoIndex{SymmetricDelete, SortedWalk} {
		for _, prefixLen := range []int{2, 4, 7} {
			t.Run(fmt.Sprintf("mode=%d/prefix=%d", mode, prefixLen), func(t *testing.T) {
				ix, err := New(&Options{TypoIndex: mode, DeletePrefix: prefixLen, FirstTypoCost: 1,
					MaxExpansions: 1 << 20, TypoLengths: []int{1, 4}})
				if err != nil {
					t.Fatal(err)
				}
				// Terms go straight into the dictionary: the tokenizer would
				// fold and split the random words.
				st := ix.st
				alive := func(slot uint32) bool { return slot%7 != 0 }
				for i, w := range vocab {
					id := st.dict.intern(w)
					st.dict.add(id, posting{slot: uint32(i)})
				}
				for i, w := range vocab {
					if !alive(uint32(i)) {
						st.dict.kill(st.dict.ids[string(w)], 1, alive)
					}
				}
				live := map[string]bool{}
				for i := range st.dict.terms {
					if st.dict.terms[i].live() > 0 {
						live[st.dict.terms[i].text] = true
					}
				}
				for q := range 150 {
					var word []rune
					if q%3 == 0 {
						word = randomRunes(r, 10)
					} else {
						word = mutate(r, vocab[r.IntN(len(vocab))], r.IntN(3))
					}
					if len(word) == 0 {
						continue
					}
					for _, mode := range []struct{ prefix, wide bool }{{false, false}, {true, false}, {false, true}} {
						prefix := mode.prefix
						k := ix.cfg.budget(len(word))
						if mode.wide {
							k = ix.cfg.wideBudget(len(word))
						}
						want := map[string]int{}
						for w := range live {
							var d int
							if prefix {
								d = naivePrefix(word, []rune(w))
							} else {
								d = naiveOSA(word, []rune(w))
							}
							if d <= k {
								want[w] = d
							}
						}
						got := map[string]int{}
						for _, c := range st.expand(word, prefix, mode.wide) {
							got[st.dict.terms[c.id].text] = int(c.cost)
						}
						if !maps.Equal(got, want) {
							t.Fatalf("expand(%q, prefix=%v, wide=%v, k=%d):\n got %v\nwant %v", string(word), prefix, mode.wide, k, sorted(got), sorted(want))
						}
					}
				}
			})
		}
	}
}

func sorted(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s:%d", k, v))
	}
	slices.Sort(out)
	return out
}

func TestVariantsAreAllDeletions(t *testing.T) {
	w := []rune("aabé")
	got := map[uint32]bool{}
	variants(w, 2, func(h uint32) { got[h] = true })
	want := map[uint32]bool{}
	// Every subsequence of length >= len(w)-2.
	for mask := 0; mask < 1<<len(w); mask++ {
		var s []rune
		for i := range w {
			if mask&(1<<i) != 0 {
				s = append(s, w[i])
			}
		}
		if len(s) >= len(w)-2 {
			want[hashRunes(s)] = true
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("variants: got %d hashes; want %d", len(got), len(want))
	}
}
