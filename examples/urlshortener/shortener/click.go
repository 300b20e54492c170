package shortener

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"
)

// Click is one redirect, as published to the click topic.
type Click struct {
	Code      string
	Time      time.Time // millisecond precision
	UserAgent string
	Referrer  string
	Country   string // from the country header, e.g. CF-IPCountry
}

// Field bounds of an encoded click: longer values are cut.
const (
	maxCode      = 1 << 10
	maxUserAgent = 256
	maxReferrer  = 512
	maxCountry   = 8
	clickVersion = 1
)

// errBadClick reports bytes that are not an encoded Click.
var errBadClick = errors.New("shortener: malformed click event")

// AppendClick appends the binary encoding of c to dst: a version byte, the
// time as a varint of Unix milliseconds, then code, user agent, referrer and
// country, each as a uvarint length and bytes. User agent, referrer and
// country are cut to 256, 512 and 8 bytes. The encoding is compact and
// needs no reflection, since the redirect path publishes one per request.
func AppendClick(dst []byte, c *Click) []byte {
	dst, _ = appendClick(dst, c)
	return dst
}

// appendClick is AppendClick that also returns the code's bytes inside the
// result.
func appendClick(dst []byte, c *Click) ([]byte, []byte) {
	dst = append(dst, clickVersion)
	dst = binary.AppendVarint(dst, c.Time.UnixMilli())
	dst = appendString(dst, c.Code, maxCode)
	start := len(dst) - min(len(c.Code), maxCode)
	end := len(dst)
	dst = appendString(dst, c.UserAgent, maxUserAgent)
	dst = appendString(dst, c.Referrer, maxReferrer)
	dst = appendString(dst, c.Country, maxCountry)
	return dst, dst[start:end:end]
}

func appendString(dst []byte, s string, max int) []byte {
	if len(s) > max {
		s = s[:max]
	}
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// clickSize bounds the encoded size of a click with the given fields.
func clickSize(code, ua, ref, country string) int {
	return 1 + binary.MaxVarintLen64 + 4*binary.MaxVarintLen16 +
		min(len(code), maxCode) + min(len(ua), maxUserAgent) + min(len(ref), maxReferrer) + min(len(country), maxCountry)
}

// DecodeClick parses bytes written by AppendClick. It returns an error for
// anything else, and never panics.
func DecodeClick(b []byte) (Click, error) {
	v, err := parseClick(b)
	if err != nil {
		return Click{}, err
	}
	return Click{
		Code: string(v.code), Time: time.UnixMilli(v.ms).UTC(),
		UserAgent: string(v.ua), Referrer: string(v.ref), Country: string(v.country),
	}, nil
}

// clickView is an encoded click's fields, pointing into the encoding.
type clickView struct {
	ms                     int64
	code, ua, ref, country []byte
}

// parseClick is DecodeClick without copying: the consumer reads every
// click through it.
func parseClick(b []byte) (clickView, error) {
	var v clickView
	if len(b) == 0 || b[0] != clickVersion {
		return v, errBadClick
	}
	b = b[1:]
	ms, n := binary.Varint(b)
	if n <= 0 {
		return v, errBadClick
	}
	b = b[n:]
	v.ms = ms
	fields := [...]*[]byte{&v.code, &v.ua, &v.ref, &v.country}
	limits := [...]int{maxCode, maxUserAgent, maxReferrer, maxCountry}
	for i, f := range fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(limits[i]) || l > uint64(len(b)-n) {
			return clickView{}, errBadClick
		}
		*f = b[n : n+int(l)]
		b = b[n+int(l):]
	}
	if len(b) != 0 || len(v.code) == 0 {
		return clickView{}, errBadClick
	}
	return v, nil
}

// DefaultBotAgents are the user-agent substrings (compared without regard to
// ASCII case) of clients whose clicks are not counted: self-declared
// crawlers ("bot" covers Googlebot, bingbot, Twitterbot, Slackbot and most
// others; "crawl", "spider", "slurp"), link-preview fetchers that do not say
// bot (facebookexternalhit, "preview") and headless browsers. An empty user
// agent is treated as a bot too.
//
// Command-line clients (curl, wget, HTTP libraries) are counted: a person at
// a terminal following a link is a click, and the README demonstrates
// clicks with curl. Set Config.BotAgents to change the list.
func DefaultBotAgents() []string {
	return []string{"bot", "crawl", "spider", "slurp", "facebookexternalhit", "preview", "headless"}
}

// isBot reports whether ua is blank or contains one of agents (lower
// case) without regard to ASCII case. It does not allocate for user agents
// of up to maxUserAgent bytes, the most an encoded click holds.
func isBot(ua []byte, agents [][]byte) bool {
	if len(bytes.TrimSpace(ua)) == 0 {
		return true
	}
	var buf [maxUserAgent]byte
	lower := buf[:0]
	if len(ua) > len(buf) {
		lower = make([]byte, 0, len(ua))
	}
	for _, c := range ua {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	for _, a := range agents {
		if bytes.Contains(lower, a) {
			return true
		}
	}
	return false
}
