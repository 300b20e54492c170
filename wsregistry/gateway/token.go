package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Identity is who a connection belongs to: a user and one of the user's
// devices. A user may hold several connections, one per device.
type Identity struct {
	User   string
	Device string
}

// Authenticator decides, before the websocket upgrade, who a request is.
// An error rejects the request with 401 Unauthorized and no upgrade.
// Implementations must be safe for concurrent use.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// maxIdentityLen bounds User and Device so that a token stays well under
// the size of a URL.
const maxIdentityLen = 256

// Tokens issues and verifies HMAC-SHA256 signed connection tokens carrying
// an [Identity] and an expiry. It implements [Authenticator]. A token is
//
//	base64url(payload) "." base64url(HMAC-SHA256(secret, payload))
//
// where payload is the expiry in Unix seconds (8 bytes, big endian), the
// length of User as a uvarint, User, then Device. Tokens are bearer secrets:
// send them over TLS. A Tokens is safe for concurrent use.
type Tokens struct {
	secret []byte
	ttl    time.Duration
}

// NewTokens returns a Tokens signing with secret (at least 16 bytes, copied)
// whose tokens expire ttl after issue; ttl <= 0 means 24 hours.
func NewTokens(secret []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 16 {
		return nil, ErrWeakSecret
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &Tokens{secret: append([]byte(nil), secret...), ttl: ttl}, nil
}

// Issue returns a token for (user, device) that expires the Tokens' ttl from now.
func (t *Tokens) Issue(user, device string) string {
	return t.IssueAt(user, device, time.Now())
}

// IssueAt returns a token for (user, device) that expires the Tokens' ttl
// after now. User and Device longer than 256 bytes are truncated; invalid
// UTF-8 is replaced, as [Tokens.Verify] accepts only valid UTF-8.
func (t *Tokens) IssueAt(user, device string, now time.Time) string {
	user = clean(user)
	device = clean(device)
	p := make([]byte, 8, 8+binary.MaxVarintLen64+len(user)+len(device))
	binary.BigEndian.PutUint64(p, uint64(now.Add(t.ttl).Unix()))
	p = binary.AppendUvarint(p, uint64(len(user)))
	p = append(p, user...)
	p = append(p, device...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(p) + "." + enc.EncodeToString(t.sign(p))
}

func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > maxIdentityLen {
		s = s[:maxIdentityLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

func (t *Tokens) sign(p []byte) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write(p)
	return m.Sum(nil)
}

// Authenticate implements [Authenticator]: it reads the token from the
// "token" query parameter (browsers cannot set headers on a websocket) or an
// "Authorization: Bearer" header, and verifies it at the current time.
func (t *Tokens) Authenticate(r *http.Request) (Identity, error) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			tok = strings.TrimSpace(h[7:])
		}
	}
	if tok == "" {
		return Identity{}, ErrNoToken
	}
	return t.Verify(tok, time.Now())
}

// Verify checks token's signature in constant time, then its expiry against
// now, and returns the identity it carries. Errors are [ErrMalformedToken],
// [ErrBadSignature] or [ErrExpiredToken]; the payload is parsed only after
// the signature matches.
func (t *Tokens) Verify(token string, now time.Time) (Identity, error) {
	enc := base64.RawURLEncoding
	body, sig, ok := strings.Cut(token, ".")
	if !ok || len(body) > enc.EncodedLen(8+binary.MaxVarintLen64+2*maxIdentityLen) {
		return Identity{}, ErrMalformedToken
	}
	p, err := enc.DecodeString(body)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: payload: %v", ErrMalformedToken, err)
	}
	mac, err := enc.DecodeString(sig)
	if err != nil || len(mac) != sha256.Size {
		return Identity{}, fmt.Errorf("%w: signature encoding", ErrMalformedToken)
	}
	if !hmac.Equal(mac, t.sign(p)) {
		return Identity{}, ErrBadSignature
	}
	if len(p) < 9 {
		return Identity{}, fmt.Errorf("%w: payload too short", ErrMalformedToken)
	}
	exp := int64(binary.BigEndian.Uint64(p))
	n, w := binary.Uvarint(p[8:])
	rest := p[8:]
	if w <= 0 || n > uint64(len(rest)-w) {
		return Identity{}, fmt.Errorf("%w: user length", ErrMalformedToken)
	}
	rest = rest[w:]
	id := Identity{User: string(rest[:n]), Device: string(rest[n:])}
	if id.User == "" || len(id.User) > maxIdentityLen || len(id.Device) > maxIdentityLen ||
		!utf8.ValidString(id.User) || !utf8.ValidString(id.Device) {
		return Identity{}, fmt.Errorf("%w: identity", ErrMalformedToken)
	}
	if now.Unix() >= exp {
		return Identity{}, ErrExpiredToken
	}
	return id, nil
}
