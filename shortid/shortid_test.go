package shortid_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sysblocks/sysblocks/shortid"
)

// TestNotesCapacity reproduces the capacity arithmetic of the design notes:
// 2000 requests per second for 10 years.
func TestNotesCapacity(t *testing.T) {
	s, err := shortid.Size(2000, 10)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 630_720_000_000 {
		t.Errorf("Requests = %d; want 630720000000", s.Requests)
	}
	if s.Length != 7 {
		t.Errorf("Length = %d; want 7", s.Length)
	}
	if s.Capacity != 3_521_614_606_208 {
		t.Errorf("Capacity = %d; want 3521614606208", s.Capacity)
	}
	if s.Log62 < 6.58 || s.Log62 >= 6.59 {
		t.Errorf("Log62 = %f; want 6.58...", s.Log62)
	}
	if n, err := shortid.MinLength(2000, 10); n != 7 || err != nil {
		t.Errorf("MinLength(2000, 10) = %d, %v; want 7, nil", n, err)
	}
}

// TestLengthForBoundaries checks the strict inequality 62^n > Y at every
// power of 62.
func TestLengthForBoundaries(t *testing.T) {
	if n, _ := shortid.LengthFor(0); n != 1 {
		t.Errorf("LengthFor(0) = %d; want 1", n)
	}
	for n := 1; n < shortid.MaxLength; n++ {
		c := shortid.Capacity(n)
		if got, err := shortid.LengthFor(c - 1); got != n || err != nil {
			t.Errorf("LengthFor(62^%d-1) = %d, %v; want %d", n, got, err, n)
		}
		if got, err := shortid.LengthFor(c); got != n+1 || err != nil {
			t.Errorf("LengthFor(62^%d) = %d, %v; want %d (62^n must exceed Y)", n, got, err, n+1)
		}
	}
	if _, err := shortid.LengthFor(shortid.Capacity(shortid.MaxLength)); !errors.Is(err, shortid.ErrCapacity) {
		t.Errorf("LengthFor(62^10) err = %v; want ErrCapacity", err)
	}
	if _, err := shortid.Requests(1<<62, 10); !errors.Is(err, shortid.ErrCapacity) {
		t.Errorf("Requests overflow err = %v; want ErrCapacity", err)
	}
	if _, err := shortid.MinLength(1<<40, 1000); !errors.Is(err, shortid.ErrCapacity) {
		t.Errorf("MinLength too large err = %v; want ErrCapacity", err)
	}
	if got := shortid.Capacity(11); got != 0 {
		t.Errorf("Capacity(11) = %d; want 0", got)
	}
}

// TestPlainCodes checks unscrambled codes against hand-computed base62.
func TestPlainCodes(t *testing.T) {
	c, err := shortid.New(7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v    uint64
		code string
	}{
		{0, "0000000"}, {1, "0000001"}, {61, "000000Z"}, {62, "0000010"},
		{3_521_614_606_207, "ZZZZZZZ"}, {125, "0000021"},
	} {
		got, err := c.Encode(tc.v)
		if err != nil || got != tc.code {
			t.Errorf("Encode(%d) = %q, %v; want %q", tc.v, got, err, tc.code)
		}
		back, err := c.Decode(tc.code)
		if err != nil || back != tc.v {
			t.Errorf("Decode(%q) = %d, %v; want %d", tc.code, back, err, tc.v)
		}
	}
}

// TestDecodeErrors checks each rejection reason, its typed error and its
// sentinel.
func TestDecodeErrors(t *testing.T) {
	c, _ := shortid.New(7, []byte("k"), &shortid.Options{Space: 1_000_000_000_000})
	for _, tc := range []struct {
		code   string
		reason error
		index  int
	}{
		{"", shortid.ErrLength, -1},
		{"abc", shortid.ErrLength, -1},
		{"abcdefgh", shortid.ErrLength, -1},
		{strings.Repeat("x", 1000), shortid.ErrLength, -1},
		{"abc$efg", shortid.ErrCharset, 3},
		{"abcdef\xff", shortid.ErrCharset, 6},
		{"abc def", shortid.ErrCharset, 3},
		{"ZZZZZZZ", shortid.ErrRange, -1}, // 62^7-1 >= space
		{"hBxM5A4", shortid.ErrRange, -1}, // exactly 1e12 == space
	} {
		_, err := c.Decode(tc.code)
		var de *shortid.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Decode(%q) err = %v; want *DecodeError", tc.code, err)
			continue
		}
		if !errors.Is(err, tc.reason) || de.Reason != tc.reason || de.Index != tc.index {
			t.Errorf("Decode(%q) = reason %v index %d; want %v index %d", tc.code, de.Reason, de.Index, tc.reason, tc.index)
		}
		if len(de.Code) > 64 {
			t.Errorf("DecodeError keeps %d bytes of input; want <= 64", len(de.Code))
		}
		if !strings.HasPrefix(err.Error(), "shortid: decode ") {
			t.Errorf("message %q lacks the package prefix", err)
		}
	}
	if _, err := c.Encode(1_000_000_000_000); !errors.Is(err, shortid.ErrRange) {
		t.Errorf("Encode(space) err = %v; want ErrRange", err)
	}
}

// TestNewValidation checks the constructor's bounds.
func TestNewValidation(t *testing.T) {
	for _, n := range []int{-1, 0, 11} {
		if _, err := shortid.New(n, nil, nil); !errors.Is(err, shortid.ErrLength) {
			t.Errorf("New(%d) err = %v; want ErrLength", n, err)
		}
	}
	if _, err := shortid.New(7, nil, &shortid.Options{Space: shortid.Capacity(7) + 1}); !errors.Is(err, shortid.ErrRange) {
		t.Errorf("New with space above 62^7 err = %v; want ErrRange", err)
	}
	if _, err := shortid.New(7, nil, &shortid.Options{Space: shortid.Capacity(6) - 1}); !errors.Is(err, shortid.ErrRange) {
		t.Errorf("New with space below 62^6 err = %v; want ErrRange", err)
	}
	c, err := shortid.New(shortid.MaxLength, []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	max := shortid.Capacity(shortid.MaxLength) - 1
	code, err := c.Encode(max)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Decode(code); v != max || err != nil {
		t.Fatalf("round trip of 62^10-1 = %d, %v", v, err)
	}
}

// TestScrambledRoundTrip checks random tokens at every length, with a full
// and a reduced space.
func TestScrambledRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= shortid.MaxLength; n++ {
		for _, space := range []uint64{0, shortid.Capacity(n-1) + 1, shortid.Capacity(n) - 7} {
			c, err := shortid.New(n, []byte("key"), &shortid.Options{Space: space})
			if err != nil {
				t.Fatal(err)
			}
			for range 2000 {
				v := r.Uint64N(c.Space())
				code, err := c.Encode(v)
				if err != nil || len(code) != n {
					t.Fatalf("n=%d space=%d: Encode(%d) = %q, %v", n, space, v, code, err)
				}
				back, err := c.Decode(code)
				if err != nil || back != v {
					t.Fatalf("n=%d space=%d: Decode(Encode(%d)) = %d, %v", n, space, v, back, err)
				}
			}
		}
	}
}

// TestScrambledReducedSpaceBijective checks exhaustively that cycle walking
// maps [0, space) onto [0, space) one to one.
func TestScrambledReducedSpaceBijective(t *testing.T) {
	const space = 200_000 // 62^3 = 238,328
	c, err := shortid.New(3, []byte("walk"), &shortid.Options{Space: space})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, space)
	for v := uint64(0); v < space; v++ {
		code, err := c.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if seen[code] {
			t.Fatalf("Encode(%d) = %q, already produced", v, code)
		}
		seen[code] = true
		if back, err := c.Decode(code); err != nil || back != v {
			t.Fatalf("Decode(%q) = %d, %v; want %d", code, back, err, v)
		}
	}
}

// TestKeysDiffer checks that the key changes the codes and that one key is
// deterministic across codecs.
func TestKeysDiffer(t *testing.T) {
	a, _ := shortid.New(7, []byte("a"), nil)
	a2, _ := shortid.New(7, []byte("a"), nil)
	b, _ := shortid.New(7, []byte("b"), nil)
	same := 0
	for v := uint64(0); v < 1000; v++ {
		ca, _ := a.Encode(v)
		ca2, _ := a2.Encode(v)
		cb, _ := b.Encode(v)
		if ca != ca2 {
			t.Fatalf("same key gave %q and %q for %d", ca, ca2, v)
		}
		if ca == cb {
			same++
		}
	}
	if same > 1 {
		t.Fatalf("%d of 1000 codes equal under different keys; want <= 1", same)
	}
}

// TestAppendEncodeAllocs checks that AppendEncode into a buffer with room
// does not allocate.
func TestAppendEncodeAllocs(t *testing.T) {
	c, _ := shortid.New(7, []byte("k"), nil)
	buf := make([]byte, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = c.AppendEncode(buf[:0], 123456789)
	})
	if allocs != 0 {
		t.Fatalf("AppendEncode allocates %v times; want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = c.Decode("abcdefg") }); allocs != 0 {
		t.Fatalf("Decode allocates %v times; want 0", allocs)
	}
}

// TestAlias checks every rejection reason of the alias validator.
func TestAlias(t *testing.T) {
	a, err := shortid.NewAlias(&shortid.AliasOptions{MinLength: 3, MaxLength: 20, CodeLength: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alias  string
		reason error
	}{
		{"my-launch", nil},
		{"Spring_Sale-2026", nil},
		{"abc", nil},
		{"launch-7", nil}, // 8 characters
		{"my-link", nil},  // 7 characters, but '-' cannot appear in a code
		{"ab", shortid.ErrLength},
		{strings.Repeat("a", 21), shortid.ErrLength},
		{"-abc", shortid.ErrCharset},
		{"_abc", shortid.ErrCharset},
		{"héllo", shortid.ErrCharset},
		{"a b c", shortid.ErrCharset},
		{"a/b/c", shortid.ErrCharset},
		{"admin", shortid.ErrReserved},
		{"ADMIN", shortid.ErrReserved},
		{"Login", shortid.ErrReserved},
		{"abcdefg", shortid.ErrCodeLike},
		{"ABC1234", shortid.ErrCodeLike},
	} {
		err := a.Validate(tc.alias)
		if tc.reason == nil {
			if err != nil {
				t.Errorf("Validate(%q) = %v; want nil", tc.alias, err)
			}
			continue
		}
		var ae *shortid.AliasError
		if !errors.As(err, &ae) || !errors.Is(err, tc.reason) {
			t.Errorf("Validate(%q) = %v; want *AliasError matching %v", tc.alias, err, tc.reason)
		}
	}
	none, _ := shortid.NewAlias(&shortid.AliasOptions{Reserved: []string{}})
	if err := none.Validate("admin"); err != nil {
		t.Errorf("empty reserved list: Validate(admin) = %v; want nil", err)
	}
	if _, err := shortid.NewAlias(&shortid.AliasOptions{MinLength: 5, MaxLength: 4}); !errors.Is(err, shortid.ErrLength) {
		t.Errorf("NewAlias with min > max err = %v; want ErrLength", err)
	}
}

// FuzzDecode feeds arbitrary strings to Decode: it must either fail with a
// *DecodeError carrying exactly one sentinel, or succeed with a token whose
// code is the input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "0000000", "ZZZZZZZ", "abc$efg", "hBxM5A4", "\xff\xfe", "aaaaaaaa", "0"} {
		f.Add(s)
	}
	plain, _ := shortid.New(7, nil, &shortid.Options{Space: 1_000_000_000_000})
	keyed, _ := shortid.New(7, []byte("fuzz"), &shortid.Options{Space: 1_000_000_000_000})
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []*shortid.Codec{plain, keyed} {
			v, err := c.Decode(s)
			if err != nil {
				var de *shortid.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("Decode(%q) err %T; want *DecodeError", s, err)
				}
				n := 0
				for _, e := range []error{shortid.ErrLength, shortid.ErrCharset, shortid.ErrRange} {
					if errors.Is(err, e) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("Decode(%q) err %v matches %d sentinels; want 1", s, err, n)
				}
				_ = err.Error()
				continue
			}
			if v >= c.Space() {
				t.Fatalf("Decode(%q) = %d; not below space %d", s, v, c.Space())
			}
			code, err := c.Encode(v)
			if err != nil || code != s {
				t.Fatalf("Encode(Decode(%q)) = %q, %v", s, code, err)
			}
		}
	})
}

// FuzzRoundTrip checks Decode(Encode(v)) == v for any key, length and
// token.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), []byte("k"), uint8(7))
	f.Add(uint64(3_521_614_606_207), []byte{}, uint8(7))
	f.Add(uint64(1<<63), []byte("long key material"), uint8(10))
	f.Add(uint64(61), []byte{0}, uint8(1))
	f.Fuzz(func(t *testing.T, v uint64, key []byte, n uint8) {
		length := int(n)%shortid.MaxLength + 1
		c, err := shortid.New(length, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		v %= c.Space()
		code, err := c.Encode(v)
		if err != nil {
			t.Fatalf("Encode(%d) err %v", v, err)
		}
		if len(code) != length {
			t.Fatalf("Encode(%d) = %q; want %d characters", v, code, length)
		}
		back, err := c.Decode(code)
		if err != nil || back != v {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", v, back, err)
		}
	})
}

// FuzzAlias checks that Validate never panics and that every accepted alias
// is within bounds and made of allowed characters.
func FuzzAlias(f *testing.F) {
	for _, s := range []string{"admin", "my-link", "-x", "abcdefg", "\x00", "ÄÖÜ"} {
		f.Add(s)
	}
	a, _ := shortid.NewAlias(&shortid.AliasOptions{CodeLength: 7})
	f.Fuzz(func(t *testing.T, s string) {
		err := a.Validate(s)
		if err != nil {
			var ae *shortid.AliasError
			if !errors.As(err, &ae) {
				t.Fatalf("Validate(%q) err %T; want *AliasError", s, err)
			}
			_ = err.Error()
			return
		}
		if len(s) < 4 || len(s) > 32 {
			t.Fatalf("Validate accepted %q of length %d", s, len(s))
		}
		for i := 0; i < len(s); i++ {
			if !strings.ContainsRune(shortid.Alphabet+"-_", rune(s[i])) {
				t.Fatalf("Validate accepted %q with byte %q", s, s[i])
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"scrambled", []byte("key")}} {
		c, _ := shortid.New(7, tc.key, nil)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var v uint64
			for b.Loop() {
				_, _ = c.Encode(v)
				v++
			}
		})
		b.Run(tc.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 16)
			var v uint64
			for b.Loop() {
				buf, _ = c.AppendEncode(buf[:0], v)
				v++
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"scrambled", []byte("key")}} {
		c, _ := shortid.New(7, tc.key, nil)
		code, _ := c.Encode(123456789)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Decode(code)
			}
		})
	}
}
