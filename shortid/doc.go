// Package shortid implements the short codes of a URL shortener: fixed-width
// base62 strings (0-9, a-z, A-Z) that stand for integer tokens.
//
// # Capacity
//
// A service that receives X requests per second for N years needs
// Y = X*60*60*24*365*N distinct codes, and a code of n base62 characters
// gives 62^n of them, so n is the smallest length with 62^n > Y. [MinLength]
// and [Size] do that arithmetic exactly, in integers: 2000 requests per second
// for 10 years is Y = 630,720,000,000, log62(Y) = 6.58, so the length is 7
// and the capacity 62^7 = 3,521,614,606,208.
//
// # Codes
//
// A [Codec] turns a token in [0, space) into a code of exactly n characters
// and back. Tokens usually come from a counter (see package tokenrange), and
// plain base62 of a counter gives neighbouring codes for neighbouring tokens
// ("000000a", "000000b", ...), which lets anyone walk the whole link table.
// With a key, the Codec applies a keyed bijection over the token space first:
// a ten-round alternating Feistel network over [0, 62^n) with a SipHash-2-4
// round function (the layout of NIST FF1, with SipHash in place of AES), and
// cycle walking when the space is smaller than 62^n. Every token still gets
// exactly one code and every code decodes to exactly one token, so no
// uniqueness is lost, but consecutive tokens give unrelated codes.
//
// The scrambling hides the order of tokens from casual observers. It is not a
// vetted format-preserving encryption scheme: do not use it to protect
// secrets, and keep the key stable for the life of the data, since changing
// it changes every code.
//
// # Errors
//
// [Codec.Decode] checks length, characters and range and returns a
// [*DecodeError] whose Reason is [ErrLength], [ErrCharset] or [ErrRange], so
// callers can answer "not found" without touching storage. [Alias.Validate]
// checks custom aliases (charset, length bounds, reserved words, and
// optionally aliases that could clash with generated codes) and returns an
// [*AliasError].
//
// Codecs and alias validators are immutable and safe for concurrent use.
// Encode allocates only the string it returns; AppendEncode, and Decode of a
// valid code, do not allocate.
package shortid
