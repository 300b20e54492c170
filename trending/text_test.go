package trending

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTerms(t *testing.T) {
	stop := map[string]bool{"the": true, "is": true}
	var got []string
	terms("The #GoLang release is OUT! @gopher don't https://go.dev x", stop, 2, func(w string) { got = append(got, w) })
	want := []string{"#golang", "release", "out", "@gopher", "dont"}
	if !slices.Equal(got, want) {
		t.Fatalf("terms = %q; want %q", got, want)
	}
}

// FuzzTerms checks that every term is non-empty, long enough, lower case,
// not a stop word, made of letters, digits and underscores after an
// optional leading # or @, and that splitting is stable: the terms of the
// terms joined by spaces are the same terms.
func FuzzTerms(f *testing.F) {
	f.Add("The #GoLang release is OUT! @gopher don't https://go.dev")
	f.Add("東京 Москва café ##a @@b __init__ 2026")
	f.Add("\xff\xfe#\u0130")
	stop := map[string]bool{"the": true}
	f.Fuzz(func(t *testing.T, text string) {
		var got []string
		terms(text, stop, 2, func(w string) { got = append(got, w) })
		for _, w := range got {
			if utf8.RuneCountInString(w) < 2 || stop[w] {
				t.Fatalf("term %q should have been dropped", w)
			}
			for i, r := range w {
				if (r == '#' || r == '@') && i == 0 {
					continue
				}
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
					t.Fatalf("term %q has rune %q", w, r)
				}
			}
		}
		var again []string
		terms(strings.Join(got, " "), stop, 2, func(w string) { again = append(again, w) })
		if !slices.Equal(again, got) {
			t.Fatalf("terms of %q = %q; terms of those = %q", text, got, again)
		}
	})
}
