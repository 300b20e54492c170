package search

import (
	"unicode"
	"unicode/utf8"
)

// latinFold maps the runes U+00C0..U+024F, after lower-casing, to the ASCII
// letter they are built on ("é" to "e", "ł" to "l", "ß" to "s"); '.' marks a
// rune that is kept as it is.
const latinFold = "" +
	"aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty" +
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiii.i..jjkkklllllll" +
	"lllnnnnnn...oooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs" +
	"b...............................oo.............uu....zz........." +
	".............aaiioouuuuuuuuuu.aaaa....ggkkoooo..j...gg..nnaa...." +
	"aaaaeeeeiiiioooorrrruuuusstt..hh....zzaaeeooooooooyy............" +
	"...b........rr.."

// foldRune lower-cases r and strips the diacritics of Latin letters.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(r)
	if 0xC0 <= r && r < 0xC0+rune(len(latinFold)) {
		if c := latinFold[r-0xC0]; c != '.' {
			return rune(c)
		}
	}
	return r
}

// isIdeograph reports whether r is written without spaces between words
// (Han, Hiragana, Katakana, Thai...); each such rune is a token of its own.
func isIdeograph(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Thai, r))
}

// tokenize splits s into normalised words and calls fn for each with its
// position (0, 1, 2...). A word is a run of letters and digits; it is
// lower-cased and Latin diacritics are removed, so "Hôtel" and "hotel" are
// the same word. Combining marks are dropped. At most maxTokens words are
// produced; fn's slice is reused between calls.
func tokenize(s string, maxTokens int, fn func(word []rune, pos int)) {
	var buf [64]rune
	word := buf[:0]
	pos := 0
	flush := func() {
		if len(word) > 0 && pos < maxTokens {
			fn(word, pos)
			pos++
		}
		word = word[:0]
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark: part of the previous letter, dropped
		case isIdeograph(r):
			flush()
			word = append(word, r)
			flush()
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if len(word) < maxWordRunes {
				word = append(word, foldRune(r))
			}
		default:
			flush()
		}
		if pos >= maxTokens {
			return
		}
	}
	flush()
}

// maxWordRunes caps a word; longer runs are truncated. Nobody types a word
// longer than this into a search box, and the cap bounds the work of the
// typo lookup.
const maxWordRunes = 48

// Tokenize returns the words of s as the index sees them: lower-cased,
// without Latin diacritics, split on everything that is not a letter or a
// digit. It is the analysis applied to both documents and queries.
func Tokenize(s string) []string {
	var out []string
	tokenize(s, maxFieldTokens, func(w []rune, _ int) { out = append(out, string(w)) })
	return out
}
