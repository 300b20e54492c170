package shortid_test

import (
	"errors"
	"fmt"

	"github.com/sysblocks/sysblocks/shortid"
)

// The capacity arithmetic of the design notes: 2000 new links per second
// for 10 years need 7 characters.
func ExampleSize() {
	s, err := shortid.Size(2000, 10)
	if err != nil {
		panic(err)
	}
	fmt.Printf("Y = %d\n", s.Requests)
	fmt.Printf("n > log62(Y) = %.2f\n", s.Log62)
	fmt.Printf("length %d, capacity 62^%d = %d\n", s.Length, s.Length, s.Capacity)
	// Output:
	// Y = 630720000000
	// n > log62(Y) = 6.58
	// length 7, capacity 62^7 = 3521614606208
}

// Without a key, codes are base62 with leading zeros, and neighbouring
// tokens give neighbouring codes.
func ExampleNew() {
	codec, err := shortid.New(7, nil, nil)
	if err != nil {
		panic(err)
	}
	for _, tok := range []uint64{0, 1, 62, 3521614606207} {
		code, _ := codec.Encode(tok)
		fmt.Println(tok, code)
	}
	// Output:
	// 0 0000000
	// 1 0000001
	// 62 0000010
	// 3521614606207 ZZZZZZZ
}

// With a key, consecutive tokens give unrelated codes, and each code still
// decodes to its token.
func ExampleCodec_Encode() {
	codec, err := shortid.New(7, []byte("keep this key stable"), nil)
	if err != nil {
		panic(err)
	}
	for tok := uint64(1000); tok < 1003; tok++ {
		code, _ := codec.Encode(tok)
		back, _ := codec.Decode(code)
		fmt.Println(len(code), back == tok)
	}
	// Output:
	// 7 true
	// 7 true
	// 7 true
}

// Decode tells malformed codes apart without touching storage.
func ExampleCodec_Decode() {
	codec, _ := shortid.New(7, nil, &shortid.Options{Space: 1_000_000_000_000})
	for _, code := range []string{"0000021", "abc", "abc$efg", "ZZZZZZZ"} {
		tok, err := codec.Decode(code)
		var de *shortid.DecodeError
		switch {
		case err == nil:
			fmt.Println(code, "->", tok)
		case errors.Is(err, shortid.ErrLength), errors.Is(err, shortid.ErrCharset):
			errors.As(err, &de)
			fmt.Println(code, "malformed:", err)
		case errors.Is(err, shortid.ErrRange):
			fmt.Println(code, "never issued:", err)
		}
	}
	// Output:
	// 0000021 -> 125
	// abc malformed: shortid: decode "abc": length 3, want 7
	// abc$efg malformed: shortid: decode "abc$efg": character '$' at 3 not allowed
	// ZZZZZZZ never issued: shortid: decode "ZZZZZZZ": value out of range
}

// Custom aliases: allowed characters, length bounds, reserved words, and no
// alias that could equal a generated 7-character code.
func ExampleAlias_Validate() {
	aliases, err := shortid.NewAlias(&shortid.AliasOptions{CodeLength: 7})
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"spring-sale", "admin", "abc", "sale!", "abcdefg"} {
		fmt.Println(s, aliases.Validate(s))
	}
	// Output:
	// spring-sale <nil>
	// admin shortid: alias "admin": reserved word
	// abc shortid: alias "abc": length 3 outside [4, 32]
	// sale! shortid: alias "sale!": character '!' at 4 not allowed
	// abcdefg shortid: alias "abcdefg": could collide with a generated code
}
