package gateway

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func mustTokens(t testing.TB, ttl time.Duration) *Tokens {
	t.Helper()
	tk, err := NewTokens(testSecret, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokensRoundTrip(t *testing.T) {
	tk := mustTokens(t, time.Hour)
	now := time.Unix(1_800_000_000, 0)
	for _, id := range []Identity{{"alice", "phone"}, {"bob", ""}, {"ünï|.cødé", "a.b.c"}} {
		got, err := tk.Verify(tk.IssueAt(id.User, id.Device, now), now)
		if err != nil || got != id {
			t.Errorf("Verify(IssueAt(%q)) = %+v, %v; want %+v, nil", id, got, err, id)
		}
	}
}

func TestTokensExpiryBoundary(t *testing.T) {
	tk := mustTokens(t, time.Minute)
	now := time.Unix(1_800_000_000, 0)
	tok := tk.IssueAt("alice", "phone", now)
	if _, err := tk.Verify(tok, now.Add(time.Minute-time.Second)); err != nil {
		t.Errorf("one second before expiry: got %v; want nil", err)
	}
	if _, err := tk.Verify(tok, now.Add(time.Minute)); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("at expiry: got %v; want ErrExpiredToken", err)
	}
}

func TestTokensForged(t *testing.T) {
	tk := mustTokens(t, time.Hour)
	other, err := NewTokens([]byte("another secret of 32 bytes......"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := tk.IssueAt("alice", "phone", now)
	body, sig, _ := strings.Cut(good, ".")
	mallory := tk.IssueAt("mallory", "phone", now)
	mbody, _, _ := strings.Cut(mallory, ".")
	flipped := []byte(sig)
	if flipped[3] == 'A' {
		flipped[3] = 'B'
	} else {
		flipped[3] = 'A'
	}
	cases := map[string]struct {
		tok  string
		want error
	}{
		"other secret":      {other.IssueAt("alice", "phone", now), ErrBadSignature},
		"swapped payload":   {mbody + "." + sig, ErrBadSignature},
		"flipped signature": {body + "." + string(flipped), ErrBadSignature},
		"truncated sig":     {body + "." + sig[:10], ErrMalformedToken},
		"no dot":            {body + sig, ErrMalformedToken},
		"empty":             {"", ErrMalformedToken},
		"bad base64":        {"!!!." + sig, ErrMalformedToken},
		"huge payload":      {strings.Repeat("A", 4000) + "." + sig, ErrMalformedToken},
		"extra dot in sig":  {body + "." + sig + ".x", ErrMalformedToken},
	}
	for name, c := range cases {
		id, err := tk.Verify(c.tok, now)
		if !errors.Is(err, c.want) || id != (Identity{}) {
			t.Errorf("%s: got %+v, %v; want zero identity, %v", name, id, err, c.want)
		}
	}
}

func TestTokensAuthenticate(t *testing.T) {
	tk := mustTokens(t, time.Hour)
	tok := tk.Issue("alice", "laptop")
	want := Identity{"alice", "laptop"}
	r := httptest.NewRequest("GET", "/ws?token="+tok, nil)
	if id, err := tk.Authenticate(r); err != nil || id != want {
		t.Errorf("query: got %+v, %v; want %+v", id, err, want)
	}
	r = httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if id, err := tk.Authenticate(r); err != nil || id != want {
		t.Errorf("header: got %+v, %v; want %+v", id, err, want)
	}
	r = httptest.NewRequest("GET", "/ws", nil)
	if _, err := tk.Authenticate(r); !errors.Is(err, ErrNoToken) {
		t.Errorf("no token: got %v; want ErrNoToken", err)
	}
}

func TestNewTokensWeakSecret(t *testing.T) {
	if _, err := NewTokens([]byte("short"), time.Hour); !errors.Is(err, ErrWeakSecret) {
		t.Errorf("got %v; want ErrWeakSecret", err)
	}
}

// FuzzTokensVerify feeds arbitrary strings to the token parser: it must
// never panic, and anything it accepts must be a token it would issue.
func FuzzTokensVerify(f *testing.F) {
	tk := mustTokens(f, time.Hour)
	now := time.Unix(1_800_000_000, 0)
	f.Add(tk.IssueAt("alice", "phone", now))
	f.Add(tk.IssueAt("bob", "", now))
	f.Add("")
	f.Add(".")
	f.Add("AAAAAAAAAAAA.AAAA")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := tk.Verify(s, now)
		if err != nil {
			if id != (Identity{}) {
				t.Fatalf("error %v with identity %+v", err, id)
			}
			return
		}
		if id.User == "" {
			t.Fatalf("accepted %q with empty user", s)
		}
		again, err := tk.Verify(tk.IssueAt(id.User, id.Device, now), now)
		if err != nil || again != id {
			t.Fatalf("reissue of %+v: got %+v, %v", id, again, err)
		}
	})
}

// FuzzTokensIssue checks that every identity survives a round trip.
func FuzzTokensIssue(f *testing.F) {
	tk := mustTokens(f, time.Hour)
	now := time.Unix(1_800_000_000, 0)
	f.Add("alice", "phone")
	f.Add("\xff", "\x00")
	f.Fuzz(func(t *testing.T, user, device string) {
		_, err := tk.Verify(tk.IssueAt(user, device, now), now)
		if clean(user) == "" {
			if !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("empty user: got %v; want ErrMalformedToken", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("IssueAt(%q, %q): Verify: %v", user, device, err)
		}
	})
}
