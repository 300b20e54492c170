package search

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// A snapshot is
//
//	magic "SBSEARCH", format version (uint32, big-endian, 1)
//	marks:      uvarint count, then name (string) and value (varint)
//	tombstones: uvarint count, then id (string) and version (uvarint)
//	documents:  uvarint count, then for each: id, version (uvarint),
//	            popularity (8 bytes, IEEE 754 big-endian), fields (uvarint
//	            count, name and text), tags (uvarint count, name, uvarint
//	            count of values, values), numbers (uvarint count, name and
//	            8-byte value)
//	CRC-32C (Castagnoli) of everything before it, big-endian
//
// where a string is a uvarint length and its bytes. Entries are written in
// key order, so equal indexes give equal snapshots.
const (
	snapshotMagic   = "SBSEARCH"
	snapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the live documents, the versions of deleted ones and the
// marks to w, in one consistent cut. Restoring it gives an index that
// answers every query as this one did at the time of the call.
func (ix *Index) Snapshot(w io.Writer) error {
	ix.mu.RLock()
	body := ix.st.encode()
	ix.mu.RUnlock()
	body = binary.BigEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	return nil
}

// SaveSnapshot writes a snapshot to path atomically: to a temporary file in
// the same directory, synced, then renamed over path.
func (ix *Index) SaveSnapshot(path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = ix.Snapshot(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	return nil
}

// Restore replaces the index with the snapshot read from r. A snapshot that
// does not decode returns an error wrapping [ErrCorruptSnapshot] and leaves
// the index unchanged. It must not run concurrently with Rebuild.
func (ix *Index) Restore(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("search: restore: %w", err)
	}
	st, err := decodeSnapshot(&ix.cfg, b)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	ix.st = st
	ix.mu.Unlock()
	return nil
}

// LoadSnapshot restores the index from the snapshot file at path.
func (ix *Index) LoadSnapshot(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("search: restore: %w", err)
	}
	defer f.Close()
	return ix.Restore(bufio.NewReaderSize(f, 1<<20))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func (s *state) encode() []byte {
	b := make([]byte, 0, 64+len(s.docs)*64)
	b = append(b, snapshotMagic...)
	b = binary.BigEndian.AppendUint32(b, snapshotVersion)
	b = binary.AppendUvarint(b, uint64(len(s.marks)))
	for _, k := range sortedKeys(s.marks) {
		b = appendString(b, k)
		b = binary.AppendVarint(b, s.marks[k])
	}
	b = binary.AppendUvarint(b, uint64(len(s.tombstones)))
	for _, k := range sortedKeys(s.tombstones) {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, s.tombstones[k])
	}
	b = binary.AppendUvarint(b, uint64(len(s.docs)))
	for _, id := range sortedKeys(s.docs) {
		d := &s.docs[id].doc
		b = appendString(b, d.ID)
		b = binary.AppendUvarint(b, d.Version)
		b = appendFloat(b, d.Popularity)
		b = binary.AppendUvarint(b, uint64(len(d.Fields)))
		for _, k := range sortedKeys(d.Fields) {
			b = appendString(b, k)
			b = appendString(b, d.Fields[k])
		}
		b = binary.AppendUvarint(b, uint64(len(d.Tags)))
		for _, k := range sortedKeys(d.Tags) {
			b = appendString(b, k)
			b = binary.AppendUvarint(b, uint64(len(d.Tags[k])))
			for _, v := range d.Tags[k] {
				b = appendString(b, v)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(d.Numbers)))
		for _, k := range sortedKeys(d.Numbers) {
			b = appendString(b, k)
			b = appendFloat(b, d.Numbers[k])
		}
	}
	return b
}

// decoder reads the body of a snapshot; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorruptSnapshot, what)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items each at least minSize bytes long, refusing
// counts the remaining input cannot hold.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/minSize) {
		d.fail("count exceeds data")
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string exceeds data")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated float")
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func decodeSnapshot(cfg *config, b []byte) (*state, error) {
	if len(b) < len(snapshotMagic)+8 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorruptSnapshot)
	}
	sum := binary.BigEndian.Uint32(b[len(b)-4:])
	b = b[:len(b)-4]
	if crc32.Checksum(b, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptSnapshot)
	}
	return decodeBody(cfg, b)
}

func decodeBody(cfg *config, b []byte) (*state, error) {
	if len(b) < len(snapshotMagic)+4 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorruptSnapshot)
	}
	if v := binary.BigEndian.Uint32(b[len(snapshotMagic):]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorruptSnapshot, v, snapshotVersion)
	}
	d := &decoder{b: b[len(snapshotMagic)+4:]}
	st := newState(cfg)
	for range d.count(2) {
		k := d.string()
		st.marks[k] = d.varint()
	}
	for range d.count(2) {
		k := d.string()
		v := d.uvarint()
		if d.err == nil && (k == "" || v == 0) {
			d.fail("bad tombstone")
		}
		st.tombstones[k] = v
	}
	var docs []Document
	for range d.count(13) {
		doc := Document{ID: d.string(), Version: d.uvarint(), Popularity: d.float()}
		if n := d.count(2); n > 0 {
			doc.Fields = make(map[string]string, n)
			for range n {
				k := d.string()
				doc.Fields[k] = d.string()
			}
		}
		if n := d.count(2); n > 0 {
			doc.Tags = make(map[string][]string, n)
			for range n {
				k := d.string()
				vs := make([]string, d.count(1))
				for i := range vs {
					vs[i] = d.string()
				}
				doc.Tags[k] = vs
			}
		}
		if n := d.count(9); n > 0 {
			doc.Numbers = make(map[string]float64, n)
			for range n {
				k := d.string()
				doc.Numbers[k] = d.float()
			}
		}
		if d.err != nil {
			break
		}
		if err := validDoc(&doc); err != nil {
			d.fail(err.Error())
			break
		}
		if _, dup := st.tombstones[doc.ID]; dup || slices.ContainsFunc(docs[max(0, len(docs)-1):], func(p Document) bool { return p.ID >= doc.ID }) {
			d.fail("documents out of order or deleted")
			break
		}
		docs = append(docs, doc)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing data")
	}
	if d.err != nil {
		return nil, d.err
	}
	st.dict.bulk = true
	for _, doc := range docs {
		st.insert(doc)
	}
	st.dict.bulk = false
	st.dict.merge()
	return st, nil
}
