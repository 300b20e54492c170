package rides

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
)

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	s.ops.Register(mux)
	h := func(pattern string, f http.HandlerFunc) { s.ops.Handle(mux, pattern, f) }
	h("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/map", http.StatusFound) })
	h("GET /map", s.serveMapPage)
	h("GET /v1/map", s.serveMap)
	h("GET /v1/cabs", s.serveCabs)
	h("GET /v1/estimate", s.serveEstimate)
	h("POST /v1/trips", s.serveBook)
	h("GET /v1/trips/{id}", s.serveTrip)
	h("POST /v1/trips/{id}/cancel", s.serveCancel)
	h("GET /v1/riders/{rider}/trips", s.serveHistory)
	h("GET /v1/drivers/{driver}/locations", s.serveLocations)
	h("GET /v1/drivers/ws", s.serveDriver)
	return mux
}

type point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

type tripView struct {
	ID         string     `json:"id"`
	Rider      string     `json:"rider"`
	Driver     string     `json:"driver,omitempty"`
	State      State      `json:"state"`
	Premium    bool       `json:"premium"`
	Pickup     point      `json:"pickup"`
	Drop       point      `json:"drop"`
	Surge      float64    `json:"surge"`
	Fare       float64    `json:"fare"`
	Currency   string     `json:"currency"`
	PickupETAS *float64   `json:"pickup_eta_s,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Created    time.Time  `json:"created_at"`
	Updated    time.Time  `json:"updated_at"`
	Ended      *time.Time `json:"ended_at,omitempty"`
}

func (s *Service) view(t Trip) *tripView {
	v := &tripView{
		ID: t.ID, Rider: t.Rider, Driver: t.Driver, State: t.State, Premium: t.Premium,
		Pickup: point{t.PickupLat, t.PickupLng}, Drop: point{t.DropLat, t.DropLng},
		Surge: t.Surge, Fare: t.Fare, Currency: s.pricing.Currency, Reason: t.Reason,
		Created: t.Created, Updated: t.Updated,
	}
	if t.Driver != "" {
		eta := round1(t.PickupETA.Seconds())
		v.PickupETAS = &eta
	}
	if !t.Ended.IsZero() {
		e := t.Ended
		v.Ended = &e
	}
	return v
}

// errCode maps an error to the code and HTTP status clients see.
func errCode(err error) (string, int) {
	switch {
	case errors.Is(err, ErrInvalidInput), errors.Is(err, geogrid.ErrInvalidInput):
		return "invalid_input", http.StatusBadRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, geogrid.ErrNotFound):
		return "not_found", http.StatusNotFound
	case errors.Is(err, ErrForbidden):
		return "forbidden", http.StatusForbidden
	case errors.Is(err, ErrRiderBusy):
		return "rider_busy", http.StatusConflict
	case errors.Is(err, ErrState):
		return "bad_state", http.StatusConflict
	case errors.Is(err, geogrid.ErrClaimed):
		return "claimed", http.StatusConflict
	case errors.Is(err, geogrid.ErrNoOffer):
		return "no_offer", http.StatusConflict
	case errors.Is(err, ErrConflict):
		return "conflict", http.StatusConflict
	case errors.Is(err, ErrNotRunning):
		return "unavailable", http.StatusServiceUnavailable
	}
	return "internal", http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code, status := errCode(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "internal error"
	}
	writeJSON(w, status, map[string]string{"code": code, "error": msg})
}

// fail writes err, logging internal errors (their text is not shown).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if _, status := errCode(err); status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

// query reads float parameters; absent ones keep their default unless
// required. "NaN" and "Inf" parse, and the coordinate checks refuse them.
type query struct {
	r   *http.Request
	err error
}

func (q *query) float(name string, def float64, required bool) float64 {
	if q.err != nil {
		return 0
	}
	v := q.r.URL.Query().Get(name)
	if v == "" {
		if required {
			q.err = inputErr("%s is required", name)
		}
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		q.err = inputErr("%s %q: not a number", name, v)
	}
	return f
}

func (q *query) int(name string, def int) int {
	if q.err != nil {
		return 0
	}
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.err = inputErr("%s %q: not an integer", name, v)
	}
	return n
}

type cabView struct {
	Driver     string    `json:"driver"`
	Lat        float64   `json:"lat"`
	Lng        float64   `json:"lng"`
	Meters     float64   `json:"meters"`
	ETASeconds float64   `json:"eta_s"`
	Seen       time.Time `json:"seen_at"`
}

func (s *Service) serveCabs(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	lat, lng := q.float("lat", 0, true), q.float("lng", 0, true)
	radius, k := q.float("radius", DefaultCabsRadius, false), q.int("k", DefaultCabsK)
	if q.err != nil {
		writeError(w, q.err)
		return
	}
	cabs, err := s.Cabs(r.Context(), lat, lng, radius, k)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]cabView, len(cabs))
	for i, c := range cabs {
		out[i] = cabView{Driver: c.Driver, Lat: c.Lat, Lng: c.Lng, Meters: round1(c.Meters), ETASeconds: round1(c.ETA.Seconds()), Seen: c.Seen.UTC()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cabs": out})
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func (s *Service) serveEstimate(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	lat, lng := q.float("lat", 0, true), q.float("lng", 0, true)
	dlat, dlng := q.float("dest_lat", 0, true), q.float("dest_lng", 0, true)
	if q.err != nil {
		writeError(w, q.err)
		return
	}
	e, err := s.Estimate(r.Context(), lat, lng, dlat, dlng)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{
		"cabs": e.Cabs, "meters": round1(e.Meters), "duration_s": round1(e.Duration.Seconds()),
		"supply": e.Supply, "demand": e.Demand, "surge": e.Surge, "fare": e.Fare, "currency": e.Currency,
		"eta_model": "straight line",
	}
	if e.PickupETA != nil {
		out["pickup_eta_s"] = round1(e.PickupETA.Seconds())
	} else {
		out["pickup_eta_s"] = nil
	}
	writeJSON(w, http.StatusOK, out)
}

// decode reads a JSON body of at most 64 KiB into v, refusing unknown
// fields and trailing data.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return inputErr("body: %v", err)
	}
	if dec.More() {
		return inputErr("body: data after the JSON object")
	}
	return nil
}

type bookBody struct {
	Rider   string   `json:"rider"`
	Lat     *float64 `json:"lat"`
	Lng     *float64 `json:"lng"`
	DestLat *float64 `json:"dest_lat"`
	DestLng *float64 `json:"dest_lng"`
	Premium bool     `json:"premium"`
}

func (s *Service) serveBook(w http.ResponseWriter, r *http.Request) {
	var b bookBody
	if err := decode(r, &b); err != nil {
		writeError(w, err)
		return
	}
	if b.Lat == nil || b.Lng == nil || b.DestLat == nil || b.DestLng == nil {
		writeError(w, inputErr("lat, lng, dest_lat and dest_lng are required"))
		return
	}
	t, err := s.Book(r.Context(), Booking{Rider: b.Rider, PickupLat: *b.Lat, PickupLng: *b.Lng, DropLat: *b.DestLat, DropLng: *b.DestLng, Premium: b.Premium})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/trips/"+t.ID)
	writeJSON(w, http.StatusAccepted, s.view(t))
}

func (s *Service) serveTrip(w http.ResponseWriter, r *http.Request) {
	t, err := s.Trip(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(t))
}

func (s *Service) serveCancel(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Rider string `json:"rider"`
	}
	if err := decode(r, &b); err != nil {
		writeError(w, err)
		return
	}
	t, err := s.Cancel(r.Context(), b.Rider, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(t))
}

func limitParam(r *http.Request, def int) (int, error) {
	q := query{r: r}
	n := q.int("limit", def)
	if q.err == nil && (n < 1 || n > 1000) {
		q.err = inputErr("limit %d: want 1 to 1000", n)
	}
	return n, q.err
}

func (s *Service) serveHistory(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 20)
	if err != nil {
		writeError(w, err)
		return
	}
	ts, next, err := s.RiderHistory(r.Context(), r.PathValue("rider"), r.URL.Query().Get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]*tripView, len(ts))
	for i, t := range ts {
		out[i] = s.view(t)
	}
	body := map[string]any{"trips": out}
	if next != "" {
		body["next"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Service) serveLocations(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	day := s.clock().UTC()
	if v := r.URL.Query().Get("day"); v != "" {
		if day, err = time.Parse(time.DateOnly, v); err != nil {
			writeError(w, inputErr("day %q: want YYYY-MM-DD", v))
			return
		}
	}
	ps, err := s.DriverLocations(r.Context(), r.PathValue("driver"), day, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type pingView struct {
		Lat float64   `json:"lat"`
		Lng float64   `json:"lng"`
		At  time.Time `json:"at"`
	}
	out := make([]pingView, len(ps))
	for i, p := range ps {
		out[i] = pingView{p.Lat, p.Lng, p.At}
	}
	writeJSON(w, http.StatusOK, map[string]any{"driver": r.PathValue("driver"), "day": day.Format(time.DateOnly), "pings": out})
}
