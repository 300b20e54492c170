package cache

import (
	"encoding/binary"
	"errors"
	"time"
)

// An entry is what the Cache writes into a Store:
//
//	byte 0      kind: 1 value, 2 not found, 3 cached loader failure
//	bytes 1..8  expiry, Unix nanoseconds, big-endian signed
//	bytes 9..   payload: the encoded value (kind 1), nothing (kind 2),
//	            the loader's error message (kind 3)
//
// The expiry inside the entry is authoritative: the Cache compares it with
// Options.Now, so expiry is the same on every store and follows a fake
// clock in tests. The store's own TTL (the same duration) only reclaims
// space. Other kind bytes are reserved for later formats; the Cache treats
// an entry it cannot decode as a miss and overwrites it.
type entryKind byte

const (
	kindValue    entryKind = 1
	kindNotFound entryKind = 2
	kindFailed   entryKind = 3

	entryHeader = 9
)

type entry struct {
	kind    entryKind
	expires int64 // Unix nanoseconds
	payload []byte
}

var errBadEntry = errors.New("cache: undecodable entry")

func appendEntry(dst []byte, kind entryKind, expires time.Time, payload []byte) []byte {
	dst = append(dst, byte(kind))
	dst = binary.BigEndian.AppendUint64(dst, uint64(expires.UnixNano()))
	return append(dst, payload...)
}

func decodeEntry(b []byte) (entry, error) {
	if len(b) < entryHeader {
		return entry{}, errBadEntry
	}
	e := entry{
		kind:    entryKind(b[0]),
		expires: int64(binary.BigEndian.Uint64(b[1:entryHeader])),
		payload: b[entryHeader:],
	}
	switch e.kind {
	case kindValue:
	case kindNotFound:
		if len(e.payload) != 0 {
			return entry{}, errBadEntry
		}
	case kindFailed:
	default:
		return entry{}, errBadEntry
	}
	return e, nil
}

// fresh reports whether e is still valid at now.
func (e entry) fresh(now time.Time) bool { return now.UnixNano() < e.expires }
