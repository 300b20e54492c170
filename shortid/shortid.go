package shortid

import "fmt"

// Alphabet is the base62 alphabet in digit order: the value of a character
// is its index here.
const Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// digitValue returns the base62 value of c, or -1.
func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 36
	}
	return -1
}

// Options configures a [Codec]. The zero value is valid.
type Options struct {
	// Space is the number of tokens the codec accepts: tokens and decoded
	// codes must lie in [0, Space). Zero means 62^length. A smaller space
	// makes codes above it invalid (Decode returns ErrRange), which keeps a
	// code space aligned with a token allocator's limit. It must be at least
	// 62^(length-1), since a smaller space needs a shorter code, and with a
	// key every Encode and Decode cycle-walks through about 62^length/Space
	// permutation steps.
	Space uint64
}

// Codec converts tokens to fixed-width base62 codes and back. A Codec is
// immutable and safe for concurrent use.
type Codec struct {
	length   int
	space    uint64 // tokens and decoded values lie in [0, space)
	full     uint64 // 62^length
	scramble bool
	perm     permutation
}

// New returns a codec for codes of exactly length characters. A non-empty
// key turns on scrambling: a keyed bijection over the token space is applied
// before base62, so consecutive tokens get unrelated codes; the same key
// always gives the same codes. An empty key gives plain base62 with leading
// zeros. opts may be nil. New returns an error matching [ErrLength] for a
// length outside [1, MaxLength] and [ErrRange] for a Space outside
// [62^(length-1), 62^length].
func New(length int, key []byte, opts *Options) (*Codec, error) {
	if length < 1 || length > MaxLength {
		return nil, fmt.Errorf("shortid: new: length %d outside [1, %d]: %w", length, MaxLength, ErrLength)
	}
	c := &Codec{length: length, full: pow62(length)}
	c.space = c.full
	if opts != nil && opts.Space != 0 {
		if opts.Space > c.full || opts.Space < pow62(length-1) {
			return nil, fmt.Errorf("shortid: new: space %d outside [62^%d, 62^%d]: %w", opts.Space, length-1, length, ErrRange)
		}
		c.space = opts.Space
	}
	if len(key) > 0 {
		c.scramble = true
		c.perm = newPermutation(key, length)
	}
	return c, nil
}

// Length returns the number of characters of every code.
func (c *Codec) Length() int { return c.length }

// Space returns the number of valid tokens: tokens lie in [0, Space()).
func (c *Codec) Space() uint64 { return c.space }

// Scrambled reports whether the codec was given a key.
func (c *Codec) Scrambled() bool { return c.scramble }

// Encode returns the code of token, or an error matching [ErrRange] when
// token >= Space(). Distinct tokens always get distinct codes.
func (c *Codec) Encode(token uint64) (string, error) {
	var buf [MaxLength]byte
	if err := c.encode(&buf, token); err != nil {
		return "", err
	}
	return string(buf[:c.length]), nil
}

// AppendEncode appends the code of token to dst and returns the extended
// buffer. It does not allocate when dst has room for Length() bytes.
func (c *Codec) AppendEncode(dst []byte, token uint64) ([]byte, error) {
	var buf [MaxLength]byte
	if err := c.encode(&buf, token); err != nil {
		return dst, err
	}
	return append(dst, buf[:c.length]...), nil
}

func (c *Codec) encode(buf *[MaxLength]byte, token uint64) error {
	if token >= c.space {
		return fmt.Errorf("shortid: encode %d: not below %d: %w", token, c.space, ErrRange)
	}
	v := token
	if c.scramble {
		v = c.perm.forward(v)
		for v >= c.space { // cycle walking: stays a bijection on [0, space)
			v = c.perm.forward(v)
		}
	}
	for i := c.length - 1; i >= 0; i-- {
		buf[i] = Alphabet[v%62]
		v /= 62
	}
	return nil
}

// Decode returns the token of code. It rejects, with a [*DecodeError], a code
// of the wrong length ([ErrLength]), with a character outside [Alphabet]
// ([ErrCharset]), or whose value is not below Space() ([ErrRange]); such
// codes were never produced by Encode.
func (c *Codec) Decode(code string) (uint64, error) {
	if len(code) != c.length {
		return 0, &DecodeError{Code: truncate(code), Reason: ErrLength, Index: -1, Want: c.length}
	}
	var v uint64
	for i := 0; i < len(code); i++ {
		d := digitValue(code[i])
		if d < 0 {
			return 0, &DecodeError{Code: code, Reason: ErrCharset, Index: i, Want: c.length}
		}
		v = v*62 + uint64(d)
	}
	if v >= c.space {
		return 0, &DecodeError{Code: code, Reason: ErrRange, Index: -1, Want: c.length}
	}
	if c.scramble {
		v = c.perm.inverse(v)
		for v >= c.space {
			v = c.perm.inverse(v)
		}
	}
	return v, nil
}
