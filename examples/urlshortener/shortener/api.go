package shortener

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/tokenrange"
)

// maxBody bounds the body of a create request.
const maxBody = 16 << 10

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	s.ops.Register(mux)
	s.ops.Handle(mux, "POST /api/v1/links", http.HandlerFunc(s.serveCreate))
	s.ops.Handle(mux, "GET /api/v1/links/{code}", http.HandlerFunc(s.serveInfo))
	s.ops.Handle(mux, "DELETE /api/v1/links/{code}", http.HandlerFunc(s.serveDelete))
	s.ops.Handle(mux, "GET /{code}", http.HandlerFunc(s.serveRedirect))
	return mux
}

// serveRedirect is the hot path: no JSON, one allocation for the click
// event and one for the Location header in the common case.
func (s *Service) serveRedirect(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if err := s.checkCode(code); err != nil {
		s.badCodes.Add(1)
		http.Error(w, "malformed code", http.StatusBadRequest)
		return
	}
	e, err := s.lookup(r.Context(), code)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		s.notFound.Add(1)
		http.Error(w, "no such link", http.StatusNotFound)
		return
	default:
		s.storeErrors.Add(1)
		s.log.Error("redirect lookup failed", "code", code, "err", err)
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	now := s.now()
	if e.expires != 0 && now.UnixNano() >= e.expires {
		s.expired.Add(1)
		http.Error(w, "link expired", http.StatusGone)
		return
	}
	// The click is queued before the response is written (Publish never
	// blocks), so a client that saw its redirect has its click queued.
	if r.Method == http.MethodGet { // HEAD is a link check, not a click
		s.publishClick(r, code, now)
	}
	s.redirects.Add(1)
	w.Header()["Location"] = []string{e.target}
	w.WriteHeader(s.status)
}

// publishClick queues a click event; it never blocks, and a full queue
// drops the click (counted in the batch publisher's Dropped).
func (s *Service) publishClick(r *http.Request, code string, now time.Time) {
	c := Click{
		Code:      code,
		Time:      now,
		UserAgent: first(r.Header["User-Agent"]),
		Referrer:  first(r.Header["Referer"]),
		Country:   first(r.Header[s.countryHeader]),
	}
	// The key is the code, so that the clicks of one code stay in order on
	// one partition; it shares the event's buffer.
	buf, key := appendClick(make([]byte, 0, clickSize(c.Code, c.UserAgent, c.Referrer, c.Country)), &c)
	_ = s.batch.Publish(events.Message{Key: key, Value: buf, Time: now})
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

type createResponse struct {
	Code      string     `json:"code"`
	ShortURL  string     `json:"short_url"`
	Target    string     `json:"target"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type errorResponse struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func (s *Service) serveCreate(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.limiter.allow(s.clientIP(r), s.now()); !ok {
		s.rateLimited.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		writeJSON(w, http.StatusTooManyRequests, errorResponse{Error: "too many links created from this address; retry later"})
		return
	}
	var req CreateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: "body: " + err.Error()})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: "body: want one JSON object"})
		return
	}
	l, err := s.Create(r.Context(), req)
	if err != nil {
		s.writeError(w, err)
		return
	}
	res := createResponse{Code: l.Code, ShortURL: s.ShortURL(l.Code), Target: l.Target}
	if !l.Expires.IsZero() {
		res.ExpiresAt = &l.Expires
	}
	w.Header().Set("Location", "/api/v1/links/"+l.Code)
	writeJSON(w, http.StatusCreated, res)
}

func (s *Service) serveInfo(w http.ResponseWriter, r *http.Request) {
	info, err := s.Info(r.Context(), r.PathValue("code"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	status := http.StatusOK
	if info.Expired {
		status = http.StatusGone // the body still describes the link
	}
	writeJSON(w, status, info)
}

func (s *Service) serveDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Delete(r.Context(), r.PathValue("code")); err != nil {
		s.writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeError maps an error of the Go API to a status and a JSON body.
func (s *Service) writeError(w http.ResponseWriter, err error) {
	var in *InputError
	switch {
	case errors.As(err, &in):
		if in.Field == "code" {
			s.badCodes.Add(1)
		}
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: err.Error(), Field: in.Field})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorResponse{Error: "no such link"})
	case errors.Is(err, ErrExists):
		writeJSON(w, http.StatusConflict, errorResponse{Error: "alias taken", Field: "alias"})
	case errors.Is(err, tokenrange.ErrExhausted):
		s.log.Error("code space exhausted", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{Error: "no codes left"})
	default:
		s.storeErrors.Add(1)
		s.log.Error("request failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{Error: "storage unavailable"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
