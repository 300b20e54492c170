package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// DefaultMaxMedia is the upload limit of Media when its max is zero.
const DefaultMaxMedia = 8 << 20

// Asset is a stored media object. Its Hash (hex SHA-256 of the content)
// is its key: the same bytes uploaded twice are one object.
type Asset struct {
	Hash        string `json:"hash"`
	ContentType string `json:"type"`
	Size        int64  `json:"size"`
	// Existed is true when the content was already stored and nothing was
	// written.
	Existed bool `json:"existed"`
}

// URL returns the path the asset is served under.
func (a Asset) URL() string { return "/media/" + a.Hash }

// MediaStats counts uploads.
type MediaStats struct {
	Stored       int64 // uploads written to the bucket
	Deduplicated int64 // uploads whose content was already there
	Rejected     int64 // uploads refused (too large, unsupported type, empty)
}

// Media is the asset service: images, videos and audio stored once per
// content hash in a blob bucket (gocloud.dev/blob: fileblob by default,
// memblob in tests, S3 or GCS by URL). It is safe for concurrent use; it
// never closes the bucket.
type Media struct {
	bucket *blob.Bucket
	max    int64
	stats  struct{ stored, dedup, rejected atomic.Int64 }
}

// NewMedia returns a Media on bucket accepting uploads of at most max bytes
// (0 means DefaultMaxMedia).
func NewMedia(bucket *blob.Bucket, max int64) *Media {
	if max <= 0 {
		max = DefaultMaxMedia
	}
	return &Media{bucket: bucket, max: max}
}

func mediaKey(hash string) string { return "media/" + hash }

// allowedType reports whether a sniffed content type may be stored: images,
// audio and video only, so that the bucket never serves HTML or scripts.
func allowedType(ct string) bool {
	return strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/")
}

// Put stores the content read from r unless an object with the same
// SHA-256 exists. The content type is sniffed from the bytes, never taken
// from the client. Put returns an error matching ErrTooLarge above the limit
// and ErrInvalid for empty or unsupported content; nothing is stored then.
func (m *Media) Put(ctx context.Context, r io.Reader) (Asset, error) {
	data, err := io.ReadAll(io.LimitReader(r, m.max+1))
	if err != nil {
		return Asset{}, fmt.Errorf("chat: media: read: %w", err)
	}
	if int64(len(data)) > m.max {
		m.stats.rejected.Add(1)
		return Asset{}, fmt.Errorf("chat: media: more than %d bytes: %w", m.max, ErrTooLarge)
	}
	ct := http.DetectContentType(data)
	if len(data) == 0 || !allowedType(ct) {
		m.stats.rejected.Add(1)
		return Asset{}, fmt.Errorf("chat: media: content type %q: %w", ct, ErrInvalid)
	}
	sum := sha256.Sum256(data)
	a := Asset{Hash: hex.EncodeToString(sum[:]), ContentType: ct, Size: int64(len(data))}
	ok, err := m.bucket.Exists(ctx, mediaKey(a.Hash))
	if err != nil {
		return Asset{}, fmt.Errorf("chat: media: %w", err)
	}
	if ok {
		m.stats.dedup.Add(1)
		a.Existed = true
		return a, nil
	}
	// Two concurrent uploads of the same bytes may both write; they write
	// the same content under the same key, so the object is still one.
	if err := m.bucket.WriteAll(ctx, mediaKey(a.Hash), data, &blob.WriterOptions{
		ContentType: ct, CacheControl: "public, max-age=31536000, immutable",
	}); err != nil {
		return Asset{}, fmt.Errorf("chat: media: write: %w", err)
	}
	m.stats.stored.Add(1)
	return a, nil
}

// ValidHash reports whether s is a lowercase hex SHA-256.
func ValidHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Open returns a reader of the asset with the given hash and its content
// type, or an error matching ErrNotFound.
func (m *Media) Open(ctx context.Context, hash string) (io.ReadCloser, Asset, error) {
	if !ValidHash(hash) {
		return nil, Asset{}, fmt.Errorf("chat: media %q: %w", hash, ErrNotFound)
	}
	r, err := m.bucket.NewReader(ctx, mediaKey(hash), nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, Asset{}, fmt.Errorf("chat: media %s: %w", hash, ErrNotFound)
	}
	if err != nil {
		return nil, Asset{}, fmt.Errorf("chat: media %s: %w", hash, err)
	}
	return r, Asset{Hash: hash, ContentType: r.ContentType(), Size: r.Size()}, nil
}

// Stats returns a snapshot of the counters.
func (m *Media) Stats() MediaStats {
	return MediaStats{Stored: m.stats.stored.Load(), Deduplicated: m.stats.dedup.Load(), Rejected: m.stats.rejected.Load()}
}

// ServeUpload handles POST /media: the body is the raw file.
func (m *Media) ServeUpload(w http.ResponseWriter, r *http.Request) {
	a, err := m.Put(r.Context(), r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusCreated
	if a.Existed {
		status = http.StatusOK
	}
	writeJSON(w, status, struct {
		Asset
		URL string `json:"url"`
	}{a, a.URL()})
}

// ServeMedia handles GET /media/{hash}.
func (m *Media) ServeMedia(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if r.Header.Get("If-None-Match") == `"`+hash+`"` && ValidHash(hash) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rc, a, err := m.Open(r.Context(), hash)
	if err != nil {
		writeError(w, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", fmt.Sprint(a.Size))
	h.Set("ETag", `"`+hash+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = io.Copy(w, rc)
}
