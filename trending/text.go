package trending

import (
	"strings"
	"unicode"
)

// englishStopWords are removed by default: function words that are always
// frequent and never a trend.
const englishStopWords = "a about above after again against all am an and any are as at be because been before " +
	"being below between both but by can could did do does doing down during each few for from further had has " +
	"have having he her here hers herself him himself his how i if in into is it its itself just me more most my " +
	"myself no nor not now of off on once only or other our ours ourselves out over own same she should so some " +
	"such than that the their theirs them themselves then there these they this those through to too under until " +
	"up very was we were what when where which while who whom why will with you your yours yourself yourselves " +
	"im dont its rt via amp get got like one also would us new"

// terms splits text into lower-cased words, keeping a leading # or @
// (hashtags and mentions are terms of their own), and calls fn for each
// that is not a stop word and is at least minLen runes long. Links
// (anything with "://", or starting with "www.") are skipped whole.
func terms(text string, stop map[string]bool, minLen int, fn func(string)) {
	var b strings.Builder
	n := 0
	flush := func() {
		w := b.String()
		b.Reset()
		runes := n
		n = 0
		if runes < minLen || stop[w] {
			return
		}
		if (w[0] == '#' || w[0] == '@') && runes < 2 {
			return
		}
		fn(w)
	}
	for _, field := range strings.Fields(text) {
		lower := strings.ToLower(field)
		if strings.Contains(lower, "://") || strings.HasPrefix(lower, "www.") {
			continue // a link
		}
		splitField(field, &b, &n, flush)
	}
}

// splitField feeds the runes of one whitespace-free field to b, flushing at
// every separator.
func splitField(field string, b *strings.Builder, n *int, flush func()) {
	prevWord := false
	for _, r := range field {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '_' && prevWord):
			b.WriteRune(unicode.ToLower(r))
			*n++
			prevWord = true
		case (r == '#' || r == '@') && !prevWord:
			if b.Len() > 0 {
				flush()
			}
			b.WriteRune(r)
			*n++
		case r == '\'' || r == '’':
			// "don't" -> "dont"
		default:
			if b.Len() > 0 {
				flush()
			}
			prevWord = false
		}
	}
	if b.Len() > 0 {
		flush()
	}
}
