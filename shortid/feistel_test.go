package shortid

import "testing"

// TestSip24Vector checks SipHash-2-4 against the reference vector for key
// 00..0f and the 16-byte message 00..0f.
func TestSip24Vector(t *testing.T) {
	got := sip24(0x0706050403020100, 0x0f0e0d0c0b0a0908, 0x0706050403020100, 0x0f0e0d0c0b0a0908)
	if want := uint64(0x3f2acc7f57c29bdb); got != want {
		t.Fatalf("sip24 = %#x; want %#x", got, want)
	}
}

// TestPermutationBijective checks, exhaustively for lengths 1 to 3 (62^3 =
// 238,328 values), that forward is a bijection onto [0, 62^n) and inverse
// undoes it.
func TestPermutationBijective(t *testing.T) {
	for n := 1; n <= 3; n++ {
		p := newPermutation([]byte("k"), n)
		size := pow62(n)
		seen := make([]bool, size)
		for x := uint64(0); x < size; x++ {
			y := p.forward(x)
			if y >= size {
				t.Fatalf("n=%d: forward(%d) = %d; want < %d", n, x, y, size)
			}
			if seen[y] {
				t.Fatalf("n=%d: forward(%d) = %d, already produced", n, x, y)
			}
			seen[y] = true
			if back := p.inverse(y); back != x {
				t.Fatalf("n=%d: inverse(forward(%d)) = %d", n, x, back)
			}
		}
	}
}

// TestPermutationScatters checks that consecutive inputs land far apart: of
// 10,000 consecutive tokens at length 7, fewer than 1% map to outputs within
// 62^4 of their predecessor's output (a plain counter would have all of them
// within 1).
func TestPermutationScatters(t *testing.T) {
	p := newPermutation([]byte("secret"), 7)
	near := 0
	prev := p.forward(1_000_000)
	for x := uint64(1_000_001); x < 1_010_000; x++ {
		y := p.forward(x)
		d := y - prev
		if y < prev {
			d = prev - y
		}
		if d < pow62(4) {
			near++
		}
		prev = y
	}
	if near > 100 {
		t.Fatalf("%d of 10,000 consecutive tokens map within 62^4 of the previous code; want <= 100", near)
	}
}
