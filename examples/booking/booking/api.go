package booking

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/sysblocks/sysblocks/reservation"
)

// maxBody bounds request bodies.
const maxBody = 64 << 10

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	s.ops.Register(mux)
	h := func(pattern string, f http.HandlerFunc) { s.ops.Handle(mux, pattern, f) }
	h("POST /hotels", s.serveCreateHotel)
	h("GET /hotels/{id}", s.serveHotel)
	h("PUT /hotels/{id}", s.serveUpdateHotel)
	h("PUT /hotels/{id}/rooms/{room}", s.servePutRoom)
	h("GET /hotels/{id}/bookings", s.serveView)
	h("GET /search", s.serveSearch)
	h("POST /search/rebuild", s.serveRebuild)
	h("POST /bookings", s.serveBook)
	h("GET /bookings/{id}", s.serveBooking)
	h("POST /bookings/{id}/payment", s.servePayment)
	h("GET /users/{id}/bookings", s.serveUserBookings)
	return mux
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error   string       `json:"error"`           // machine-readable code
	Field   string       `json:"field,omitempty"` // the offending field, for bad input
	Message string       `json:"message"`
	Booking *BookingView `json:"booking,omitempty"` // the booking as it stands, for payment errors
}

// errBody maps an error to the status and body clients see.
func errBody(err error) (int, ErrorBody) {
	var ie *InputError
	if errors.As(err, &ie) {
		status := http.StatusBadRequest
		if ie.Code == "unknown_room" || ie.Code == "room_inactive" {
			status = http.StatusUnprocessableEntity
		}
		return status, ErrorBody{Error: ie.Code, Field: ie.Field, Message: ie.Error()}
	}
	for _, m := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrNotFound, http.StatusNotFound, "not_found"},
		{ErrExists, http.StatusConflict, "exists"},
		{ErrRoomTaken, http.StatusConflict, "room_taken"},
		{ErrRoomsCommitted, http.StatusConflict, "rooms_committed"},
		{ErrFinal, http.StatusConflict, "booking_final"},
		{reservation.ErrSoldOut, http.StatusConflict, "sold_out"},
		{reservation.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency_mismatch"},
		{reservation.ErrRefundRequired, http.StatusConflict, "refund_required"},
		{reservation.ErrDuplicatePayment, http.StatusConflict, "duplicate_payment"},
		{reservation.ErrState, http.StatusConflict, "invalid_state"},
		{reservation.ErrInvalid, http.StatusBadRequest, "invalid_input"},
		{context.DeadlineExceeded, http.StatusServiceUnavailable, "timeout"},
	} {
		if errors.Is(err, m.err) {
			return m.status, ErrorBody{Error: m.code, Message: err.Error()}
		}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal", Message: "internal error"}
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errBody(err)
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads one JSON object into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("invalid_body", "", "body: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("invalid_body", "", "body: want one JSON object")
	}
	return nil
}

// HotelInput is the body of POST /hotels and PUT /hotels/{id}.
type HotelInput struct {
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	Locality      Locality `json:"locality"`
	Images        []string `json:"images"`
	DisplayImages []string `json:"display_images"`
	Facilities    []string `json:"facilities"`
	Active        *bool    `json:"active"` // nil means true
}

func (in HotelInput) hotel() Hotel {
	return Hotel{Name: in.Name, Description: in.Description, Locality: in.Locality, Images: in.Images,
		DisplayImages: in.DisplayImages, Facilities: in.Facilities, Active: in.Active == nil || *in.Active}
}

// RoomInput is the body of PUT /hotels/{id}/rooms/{room}.
type RoomInput struct {
	Name       string   `json:"name"`
	Quantity   int      `json:"quantity"`
	PriceMin   float64  `json:"price_min"`
	PriceMax   float64  `json:"price_max"`
	Facilities []string `json:"facilities"`
	Active     *bool    `json:"active"` // nil means true
}

func (s *Service) serveCreateHotel(w http.ResponseWriter, r *http.Request) {
	var in HotelInput
	if err := decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.CreateHotel(r.Context(), in.hotel())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/hotels/"+h.ID)
	writeJSON(w, http.StatusCreated, h)
}

func (s *Service) serveHotel(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hotel(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Service) serveUpdateHotel(w http.ResponseWriter, r *http.Request) {
	var in HotelInput
	if err := decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.UpdateHotel(r.Context(), r.PathValue("id"), in.hotel())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Service) servePutRoom(w http.ResponseWriter, r *http.Request) {
	var in RoomInput
	if err := decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.PutRoom(r.Context(), r.PathValue("id"), r.PathValue("room"), Room{
		Name: in.Name, Quantity: in.Quantity, PriceMin: in.PriceMin, PriceMax: in.PriceMax,
		Facilities: in.Facilities, Active: in.Active == nil || *in.Active,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Service) serveView(w http.ResponseWriter, r *http.Request) {
	v, err := s.CurrentBookings(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func intParam(r *http.Request, name string, dst *int) error {
	if v := r.URL.Query().Get(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return invalid("invalid_"+name, name, "want an integer")
		}
		*dst = n
	}
	return nil
}

func floatParam(r *http.Request, name string) (*float64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f {
		return nil, invalid("invalid_price", name, "want a number")
	}
	return &f, nil
}

func (s *Service) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := SearchRequest{Text: q.Get("q"), City: q.Get("city"), Country: q.Get("country"), Prefix: q.Get("prefix") == "true"}
	var err error
	if err = intParam(r, "limit", &req.Limit); err == nil {
		err = intParam(r, "offset", &req.Offset)
	}
	if err == nil {
		req.MinPrice, err = floatParam(r, "min_price")
	}
	if err == nil {
		req.MaxPrice, err = floatParam(r, "max_price")
	}
	var res SearchResult
	if err == nil {
		res, err = s.Search(r.Context(), req)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Service) serveRebuild(w http.ResponseWriter, r *http.Request) {
	if err := s.Rebuild(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"docs": s.index.Len()})
}

func (s *Service) serveBook(w http.ResponseWriter, r *http.Request) {
	var req BookRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Book(r.Context(), r.Header.Get("Idempotency-Key"), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/bookings/"+b.ID)
	writeJSON(w, http.StatusCreated, ViewOf(b))
}

func (s *Service) serveBooking(w http.ResponseWriter, r *http.Request) {
	v, err := s.BookingDetail(r.Context(), r.PathValue("id"), r.URL.Query().Get("user"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Service) servePayment(w http.ResponseWriter, r *http.Request) {
	var p Payment
	if err := decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Pay(r.Context(), r.PathValue("id"), p)
	if err != nil {
		status, body := errBody(err)
		if b.ID != "" {
			v := ViewOf(b)
			body.Booking = &v
		}
		if status == http.StatusInternalServerError {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, status, body)
		return
	}
	writeJSON(w, http.StatusOK, ViewOf(b))
}
