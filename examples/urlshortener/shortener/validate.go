package shortener

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest target accepted, in bytes.
const MaxURLLength = 2048

// targetRules checks targets of new links.
type targetRules struct {
	own          map[string]bool // host names of the shortener itself, lower case, no trailing dot
	ownLoopbacks bool            // the shortener is reached on a loopback name: every loopback host is its own
}

func newTargetRules(baseHost string, others []string) *targetRules {
	r := &targetRules{own: map[string]bool{}}
	for _, h := range append([]string{baseHost}, others...) {
		h = normalizeHost(h)
		if h == "" {
			continue
		}
		r.own[h] = true
		if isLoopback(h) {
			r.ownLoopbacks = true
		}
	}
	return r
}

// normalizeHost lowercases a host name, drops a port, IPv6 brackets and a
// trailing dot.
func normalizeHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
	return strings.ToLower(h)
}

func isLoopback(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// check returns nil when raw is an acceptable target: an absolute http or
// https URL of at most MaxURLLength bytes of printable ASCII, with a host
// that is not the shortener's own, no user information and a valid port.
func (r *targetRules) check(raw string) error {
	bad := func(format string, args ...any) error {
		return &InputError{Field: "url", Reason: ErrBadURL, Detail: fmt.Sprintf(format, args...)}
	}
	if raw == "" {
		return bad("missing")
	}
	if len(raw) > MaxURLLength {
		return bad("%d bytes, at most %d allowed", len(raw), MaxURLLength)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return bad("byte %#02x at %d not allowed (percent-encode spaces and non-ASCII text, write host names in punycode)", c, i)
		}
	}
	// Name the dangerous schemes before parsing: some of them do not parse
	// as URLs at all, and the message should say why they are refused.
	if i := strings.IndexByte(raw, ':'); i > 0 {
		switch s := strings.ToLower(raw[:i]); s {
		case "javascript", "data", "file", "vbscript", "blob", "about":
			return bad("scheme %q not allowed", s)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse: %v", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return bad("not absolute: want http:// or https://")
		}
		return bad("scheme %q not allowed: want http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("no host: want %s://host/...", u.Scheme)
	}
	if u.User != nil {
		return bad("user information (user@ or user:password@) not allowed")
	}
	host := normalizeHost(u.Hostname())
	if host == "" {
		return bad("empty host name")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("port %q out of range", p)
		}
	}
	if r.own[host] || r.ownLoopbacks && isLoopback(host) {
		return bad("host %q is this shortener: the link would redirect to itself", host)
	}
	return nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// checkCode returns nil when code can name a link: a generated code
// (exactly the codec's length, base62, inside its space) or an acceptable
// alias. The two sets are disjoint: the alias rules refuse every string of
// the codec's length made only of base62 characters (shortid.ErrCodeLike).
// It does not allocate for a valid code.
func (s *Service) checkCode(code string) error {
	if len(code) == s.codec.Length() && isBase62(code) {
		if s.fullSpace {
			return nil // every such string decodes: skip the unscrambling
		}
		if _, err := s.codec.Decode(code); err != nil {
			return &InputError{Field: "code", Reason: ErrBadCode, Detail: err.Error()}
		}
		return nil
	}
	if err := s.alias.Validate(code); err != nil {
		return &InputError{Field: "code", Reason: ErrBadCode, Detail: err.Error()}
	}
	return nil
}

// clientIP returns the address a request is limited under: the host of
// RemoteAddr or, when the service trusts a proxy, the rightmost
// X-Forwarded-For entry (the address that proxy saw; entries to its left
// are whatever the client chose to send).
func (s *Service) clientIP(r *http.Request) string {
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
