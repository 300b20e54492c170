package shortid

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// rounds is the number of Feistel rounds, as in NIST FF1. It must be even
// so that the two halves end with the sizes they started with.
const rounds = 10

// permutation is a keyed bijection over [0, a*b), where a = 62^u and
// b = 62^v with u+v = n. It splits x into (x / b, x % b) and runs an
// alternating Feistel network in which each half keeps its own modulus.
type permutation struct {
	k0, k1 uint64 // SipHash key
	tweak  uint64 // the code length, so that lengths get unrelated permutations
	a, b   uint64 // sizes of the two halves
}

func newPermutation(key []byte, length int) permutation {
	sum := sha256.Sum256(key)
	u := length / 2
	return permutation{
		k0:    binary.LittleEndian.Uint64(sum[0:8]),
		k1:    binary.LittleEndian.Uint64(sum[8:16]),
		tweak: uint64(length) << 8,
		a:     pow62(u),
		b:     pow62(length - u),
	}
}

// round is the keyed round function F(i, x).
func (p *permutation) round(i int, x uint64) uint64 {
	return sip24(p.k0, p.k1, p.tweak|uint64(i), x)
}

// forward maps x in [0, a*b) to [0, a*b).
func (p *permutation) forward(x uint64) uint64 {
	l, r := x/p.b, x%p.b
	sl, sr := p.a, p.b
	for i := range rounds {
		c := (l + p.round(i, r)%sl) % sl
		l, r = r, c
		sl, sr = sr, sl
	}
	return l*p.b + r
}

// inverse undoes forward.
func (p *permutation) inverse(y uint64) uint64 {
	l, r := y/p.b, y%p.b
	sl, sr := p.a, p.b
	for i := rounds - 1; i >= 0; i-- {
		// State after round i is (l, r) = (old r, c) with sizes (sl, sr);
		// the old l lived modulo sr, the size of c.
		c := r
		oldR := l
		oldL := (c + sr - p.round(i, oldR)%sr) % sr
		l, r = oldL, oldR
		sl, sr = sr, sl
	}
	return l*p.b + r
}

// sip24 is SipHash-2-4 of the 16-byte message m0 || m1 (little endian)
// under the key k0 || k1.
func sip24(k0, k1, m0, m1 uint64) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573

	// Four message compressions (two rounds each for m0, m1 and the length
	// block) and four finalization rounds, written out so that they inline.
	v3 ^= m0
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m0
	v3 ^= m1
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m1
	const lengthBlock = 16 << 56
	v3 ^= lengthBlock
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= lengthBlock
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
