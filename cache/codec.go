package cache

import (
	"encoding/json"
	"fmt"
)

// Codec turns values into the bytes a [Store] keeps and back. Decode
// receives a slice the Cache owns; a codec may keep it (as [BytesCodec]
// does). Implementations must be safe for concurrent use.
type Codec[V any] interface {
	Encode(v V) ([]byte, error)
	Decode(b []byte) (V, error)
}

// StringCodec stores a string as its bytes. The zero value is ready to use.
type StringCodec struct{}

// Encode returns the bytes of s.
func (StringCodec) Encode(s string) ([]byte, error) { return []byte(s), nil }

// Decode returns b as a string.
func (StringCodec) Decode(b []byte) (string, error) { return string(b), nil }

// BytesCodec stores a byte slice as is. Decode returns the slice it is
// given, without copying. The zero value is ready to use.
type BytesCodec struct{}

// Encode returns b.
func (BytesCodec) Encode(b []byte) ([]byte, error) { return b, nil }

// Decode returns b.
func (BytesCodec) Decode(b []byte) ([]byte, error) { return b, nil }

// JSONCodec stores a value as JSON with encoding/json. The zero value is
// ready to use.
type JSONCodec[V any] struct{}

// Encode returns the JSON encoding of v.
func (JSONCodec[V]) Encode(v V) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: json encode: %w", err)
	}
	return b, nil
}

// Decode parses b as JSON into a new V.
func (JSONCodec[V]) Decode(b []byte) (V, error) {
	var v V
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("cache: json decode: %w", err)
	}
	return v, nil
}
