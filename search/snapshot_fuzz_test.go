package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

func snapshotSeed(t testing.TB) []byte {
	ix, _ := New(nil)
	ctx := context.Background()
	ix.Apply(ctx, ChangeEvent{Op: OpCreated, Doc: Document{ID: "a", Version: 2, Fields: map[string]string{"name": "Airport Inn"},
		Tags: map[string][]string{"city": {"Paris"}}, Numbers: map[string]float64{"price": 120}, Popularity: 3}})
	ix.Apply(ctx, ChangeEvent{Op: OpCreated, Doc: Document{ID: "b", Version: 1, Fields: map[string]string{"name": "Zürich"}}})
	ix.Apply(ctx, ChangeEvent{Op: OpDeleted, Doc: Document{ID: "c", Version: 4}})
	ix.SetMark("t/0", 17)
	var buf bytes.Buffer
	if err := ix.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzSnapshot feeds arbitrary bodies (with a valid checksum appended, so
// that the parser itself is exercised) to the snapshot decoder. It must
// either refuse them with ErrCorruptSnapshot or accept them, in which case
// the decoded index must encode back to a snapshot that decodes to the same
// bytes again.
func FuzzSnapshot(f *testing.F) {
	seed := snapshotSeed(f)
	f.Add(seed[:len(seed)-4])
	f.Add([]byte(snapshotMagic + "\x00\x00\x00\x01\x00\x00\x00"))
	f.Add([]byte(snapshotMagic + "\x00\x00\x00\x01\x00\x00\x01\x01a\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, _ := (*Options)(nil).resolve()
		full := binary.BigEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, castagnoli))
		st, err := decodeSnapshot(&cfg, full)
		if err != nil {
			if !errorsIs(err, ErrCorruptSnapshot) {
				t.Fatalf("decode error %v does not wrap ErrCorruptSnapshot", err)
			}
			return
		}
		again := st.encode()
		st2, err := decodeBody(&cfg, again)
		if err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
		if !bytes.Equal(st2.encode(), again) {
			t.Fatal("encoding is not stable")
		}
	})
}

func TestSnapshotChecksum(t *testing.T) {
	seed := snapshotSeed(t)
	cfg, _ := (*Options)(nil).resolve()
	if _, err := decodeSnapshot(&cfg, seed); err != nil {
		t.Fatal(err)
	}
	for i := range seed {
		b := bytes.Clone(seed)
		b[i] ^= 1
		if _, err := decodeSnapshot(&cfg, b); !errorsIs(err, ErrCorruptSnapshot) {
			t.Fatalf("flipping byte %d: %v; want ErrCorruptSnapshot", i, err)
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
