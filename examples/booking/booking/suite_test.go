package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/reservation"
)

// waitLimit bounds every wait of the tests; nothing is timed against it.
const waitLimit = 90 * time.Second

// clock is time.Now shifted by an offset the test can advance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type stackFunc func(t *testing.T, s backends.Settings) *backends.Stack

func memoryStack(t *testing.T, s backends.Settings) *backends.Stack {
	st, err := backends.Memory(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// counting wraps the availability and booking store (one
// reservation.Store) and counts the calls that requests make (the sweeper's Expired, Ended and PruneKeys are not
// counted).
type counting struct {
	reservation.Store
	calls atomic.Int64
}

func (c *counting) SetInventory(ctx context.Context, room string, from, to reservation.Date, initial int, now time.Time) error {
	c.calls.Add(1)
	return c.Store.SetInventory(ctx, room, from, to, initial, now)
}

func (c *counting) Inventory(ctx context.Context, room string, from, to reservation.Date, now time.Time) ([]reservation.Night, error) {
	c.calls.Add(1)
	return c.Store.Inventory(ctx, room, from, to, now)
}

func (c *counting) Hold(ctx context.Context, b reservation.Booking, fp string, now time.Time) (reservation.Booking, bool, error) {
	c.calls.Add(1)
	return c.Store.Hold(ctx, b, fp, now)
}

func (c *counting) Get(ctx context.Context, id string) (reservation.Booking, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, id)
}

func (c *counting) Transition(ctx context.Context, id string, t reservation.Transition) (reservation.Booking, error) {
	c.calls.Add(1)
	return c.Store.Transition(ctx, id, t)
}

func (c *counting) ByRoom(ctx context.Context, room string, from, to reservation.Date, now time.Time, limit int) ([]reservation.Booking, error) {
	c.calls.Add(1)
	return c.Store.ByRoom(ctx, room, from, to, now, limit)
}

func (c *counting) ByUser(ctx context.Context, user string, after reservation.Cursor, limit int) ([]reservation.Booking, error) {
	c.calls.Add(1)
	return c.Store.ByUser(ctx, user, after, limit)
}

// env is one running service behind an httptest server.
type env struct {
	t     *testing.T
	base  string
	svc   *booking.Service
	stack *backends.Stack
	cfg   booking.Config
	avail *counting
	clock *clock
}

func start(t *testing.T, newStack stackFunc, mods ...func(*booking.Config)) *env {
	t.Helper()
	c := &clock{}
	st := newStack(t, backends.Settings{Now: c.Now})
	cfg := booking.Config{Now: c.Now, Ops: ops.New("booking_test"), QueryCacheTTL: 20 * time.Millisecond,
		Reservation: reservation.Options{SweepInterval: 50 * time.Millisecond}}
	st.Apply(&cfg)
	avail := &counting{Store: cfg.Reservations}
	cfg.Reservations = avail
	for _, mod := range mods {
		mod(&cfg)
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	svc, err := booking.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		srv.Close()
	})
	return &env{t: t, base: srv.URL, svc: svc, stack: st, cfg: cfg, avail: avail, clock: c}
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (e *env) do(method, path string, body any, out any, header ...string) int {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: status %d, body %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// must sends a request that must answer want.
func (e *env) must(want int, method, path string, body, out any, header ...string) {
	e.t.Helper()
	var raw json.RawMessage
	if got := e.do(method, path, body, &raw, header...); got != want {
		e.t.Fatalf("%s %s: status %d, body %s; want %d", method, path, got, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

// eventually polls cond until it holds or waitLimit passes.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: still not true after %v", what, waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) hotel(name, city string) booking.Hotel {
	e.t.Helper()
	var h booking.Hotel
	e.must(http.StatusCreated, "POST", "/hotels", booking.HotelInput{
		Name: name, Description: "A hotel in " + city, Locality: booking.Locality{City: city, Country: "FR"},
		Facilities: []string{"wifi"},
	}, &h)
	return h
}

func (e *env) room(hotel, room string, qty int, price float64) booking.Hotel {
	e.t.Helper()
	var h booking.Hotel
	e.must(http.StatusOK, "PUT", "/hotels/"+hotel+"/rooms/"+room, booking.RoomInput{
		Name: "Double", Quantity: qty, PriceMin: price, PriceMax: price * 1.5,
	}, &h)
	return h
}

func (e *env) day(n int) string {
	return reservation.DateFromTime(e.clock.Now().UTC()).AddDays(n).String()
}

func (e *env) book(key, user, room string, qty, in, out int) (int, booking.BookingView, booking.ErrorBody) {
	e.t.Helper()
	var raw json.RawMessage
	status := e.do("POST", "/bookings", booking.BookRequest{User: user, Room: room, Quantity: qty, CheckIn: e.day(in), CheckOut: e.day(out)},
		&raw, "Idempotency-Key", key)
	var b booking.BookingView
	var eb booking.ErrorBody
	if status == http.StatusCreated {
		_ = json.Unmarshal(raw, &b)
	} else {
		_ = json.Unmarshal(raw, &eb)
	}
	return status, b, eb
}

func (e *env) availability(room string) []reservation.Night {
	e.t.Helper()
	today := reservation.DateFromTime(e.clock.Now().UTC())
	n, err := e.svc.Reservations().Availability(context.Background(), room, today, today.AddDays(60))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// suite runs every end-to-end test on the stacks newStack returns.
func suite(t *testing.T, newStack stackFunc) {
	t.Run("Hotels", func(t *testing.T) { testHotels(t, newStack) })
	t.Run("Search", func(t *testing.T) { testSearch(t, newStack) })
	t.Run("Bookings", func(t *testing.T) { testBookings(t, newStack) })
	t.Run("BadBookings", func(t *testing.T) { testBadBookings(t, newStack) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, newStack) })
	t.Run("LatePayments", func(t *testing.T) { testLatePayments(t, newStack) })
	t.Run("LastRooms", func(t *testing.T) { testLastRooms(t, newStack) })
	t.Run("View", func(t *testing.T) { testView(t, newStack) })
	t.Run("History", func(t *testing.T) { testHistory(t, newStack) })
}

func testHotels(t *testing.T, newStack stackFunc) {
	e := start(t, newStack)
	h := e.hotel("Airport Inn", "Paris")
	if h.ID == "" || h.Version != 1 || !h.Active {
		t.Fatalf("created %+v; want an ID, version 1, active", h)
	}
	var got booking.Hotel
	e.must(http.StatusOK, "GET", "/hotels/"+h.ID, nil, &got)
	if got.Name != "Airport Inn" || got.Locality.City != "Paris" || !reflect.DeepEqual(got.Facilities, []string{"wifi"}) {
		t.Errorf("GET: got %+v", got)
	}
	e.must(http.StatusOK, "PUT", "/hotels/"+h.ID, booking.HotelInput{
		Name: "Airport Inn CDG", Locality: booking.Locality{City: "Roissy", Country: "FR"}, Facilities: []string{"shuttle", "wifi"},
	}, &got)
	if got.Version != 2 || got.Name != "Airport Inn CDG" || len(got.Facilities) != 2 {
		t.Errorf("PUT: got %+v; want version 2 with the new fields", got)
	}
	got = e.room(h.ID, "r1", 4, 90)
	if got.Version != 3 || len(got.Rooms) != 1 || got.Rooms[0].Quantity != 4 || got.Rooms[0].HotelID != h.ID {
		t.Errorf("PUT room: got %+v; want version 3 and the room", got)
	}
	if n := e.availability("r1"); len(n) != 60 || n[0].Initial != 4 || n[0].Available != 4 {
		t.Errorf("inventory of r1: %d nights, first %+v; want 60 nights of 4", len(n), n[0])
	}
	other := e.hotel("Harbour View", "Lyon")

	before := e.hotel("Before", "Nice") // a hotel the bad requests target
	e.room(before.ID, "rb", 2, 50)
	var snapshot booking.Hotel
	e.must(http.StatusOK, "GET", "/hotels/"+before.ID, nil, &snapshot)
	availBefore := e.availability("rb")

	// Bad input: a clear 4xx with a typed body, and nothing changed.
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"no name", "POST", "/hotels", `{"locality":{"city":"Paris","country":"FR"}}`, 400, "missing_field", "name"},
		{"no city", "PUT", "/hotels/" + before.ID, `{"name":"X","locality":{"country":"FR"}}`, 400, "missing_field", "locality.city"},
		{"bad JSON", "PUT", "/hotels/" + before.ID, `{"name":`, 400, "invalid_body", ""},
		{"unknown field", "PUT", "/hotels/" + before.ID, `{"name":"X","stars":5}`, 400, "invalid_body", ""},
		{"two objects", "POST", "/hotels", `{"name":"X","locality":{"city":"a","country":"b"}} {}`, 400, "invalid_body", ""},
		{"unknown hotel", "PUT", "/hotels/h_nope", `{"name":"X","locality":{"city":"a","country":"b"}}`, 404, "not_found", ""},
		{"get unknown hotel", "GET", "/hotels/h_nope", nil, 404, "not_found", ""},
		{"negative quantity", "PUT", "/hotels/" + before.ID + "/rooms/rb", `{"name":"D","quantity":-1}`, 400, "invalid_quantity", "quantity"},
		{"huge quantity", "PUT", "/hotels/" + before.ID + "/rooms/rb", `{"name":"D","quantity":100001}`, 400, "invalid_quantity", "quantity"},
		{"prices reversed", "PUT", "/hotels/" + before.ID + "/rooms/rb", `{"name":"D","quantity":1,"price_min":10,"price_max":5}`, 400, "invalid_price", "price_max"},
		{"negative price", "PUT", "/hotels/" + before.ID + "/rooms/rb", `{"name":"D","quantity":1,"price_min":-1,"price_max":5}`, 400, "invalid_price", "price_min"},
		{"bad room id", "PUT", "/hotels/" + before.ID + "/rooms/r%20b", `{"name":"D","quantity":1}`, 400, "invalid_id", "id"},
		{"room of unknown hotel", "PUT", "/hotels/h_nope/rooms/rz", `{"name":"D","quantity":1}`, 404, "not_found", ""},
		{"room of another hotel", "PUT", "/hotels/" + other.ID + "/rooms/rb", `{"name":"D","quantity":9}`, 409, "room_taken", ""},
		{"view of unknown hotel", "GET", "/hotels/h_nope/bookings", nil, 404, "not_found", ""},
	} {
		var eb booking.ErrorBody
		status := e.do(c.method, c.path, c.body, &eb)
		if status != c.status || eb.Error != c.code || eb.Field != c.field || eb.Message == "" {
			t.Errorf("%s: got %d %+v; want %d %s field %q", c.name, status, eb, c.status, c.code, c.field)
		}
	}
	var after booking.Hotel
	e.must(http.StatusOK, "GET", "/hotels/"+before.ID, nil, &after)
	if !reflect.DeepEqual(after, snapshot) {
		t.Errorf("hotel after bad requests:\n got %+v\nwant %+v", after, snapshot)
	}
	if got := e.availability("rb"); !reflect.DeepEqual(got, availBefore) {
		t.Errorf("inventory after bad requests changed: got %v; want %v", got[:2], availBefore[:2])
	}
	var o booking.Hotel
	e.must(http.StatusOK, "GET", "/hotels/"+other.ID, nil, &o)
	if o.Version != 1 || len(o.Rooms) != 0 {
		t.Errorf("other hotel after refused room: version %d, %d rooms; want 1, 0", o.Version, len(o.Rooms))
	}

	// Lowering a room below what is booked is refused and changes nothing.
	if status, _, eb := e.book("k-lower", "u1", "rb", 2, 1, 3); status != http.StatusCreated {
		t.Fatalf("book: %d %+v", status, eb)
	}
	var eb booking.ErrorBody
	if status := e.do("PUT", "/hotels/"+before.ID+"/rooms/rb", booking.RoomInput{Name: "D", Quantity: 1}, &eb); status != 409 || eb.Error != "rooms_committed" {
		t.Errorf("lowering below held rooms: got %d %+v; want 409 rooms_committed", status, eb)
	}
	e.must(http.StatusOK, "GET", "/hotels/"+before.ID, nil, &after)
	if after.Rooms[0].Quantity != 2 || after.Version != snapshot.Version {
		t.Errorf("room after refused lowering: quantity %d, version %d; want 2, %d", after.Rooms[0].Quantity, after.Version, snapshot.Version)
	}
}

func (e *env) search(query string) booking.SearchResult {
	e.t.Helper()
	var r booking.SearchResult
	e.must(http.StatusOK, "GET", "/search?"+query, nil, &r)
	return r
}

func ids(r booking.SearchResult) []string {
	out := []string{}
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func testSearch(t *testing.T, newStack stackFunc) {
	e := start(t, newStack)
	airport := e.hotel("Airport Inn", "Paris")
	e.room(airport.ID, "ra", 3, 80)
	harbour := e.hotel("Harbour View", "Lyon")
	e.room(harbour.ID, "rh", 3, 150)

	// Fed by the hotel change events: "airprot" finds "Airport Inn".
	e.eventually("airprot finds Airport Inn", func() bool {
		r := e.search("q=airprot")
		return len(r.Hits) == 1 && r.Hits[0].ID == airport.ID && r.Hits[0].Typos > 0
	})
	e.eventually("both hotels indexed with their prices", func() bool {
		r := e.search("q=hotel")
		return r.Total == 2 && r.Hits[0].PriceFrom != nil && r.Hits[1].PriceFrom != nil
	})
	if got := ids(e.search("q=hotel&city=LYON")); !reflect.DeepEqual(got, []string{harbour.ID}) {
		t.Errorf("city=LYON: got %v; want the Harbour View", got)
	}
	if got := ids(e.search("q=hotel&max_price=100")); !reflect.DeepEqual(got, []string{airport.ID}) {
		t.Errorf("max_price=100: got %v; want the Airport Inn", got)
	}
	if got := ids(e.search("q=harb&prefix=true")); !reflect.DeepEqual(got, []string{harbour.ID}) {
		t.Errorf("prefix harb: got %v; want the Harbour View", got)
	}
	for _, c := range []struct{ query, code string }{
		{"q=x&limit=1000", "invalid_limit"}, {"q=x&limit=abc", "invalid_limit"}, {"q=x&offset=-1", "invalid_offset"},
		{"q=x&min_price=10&max_price=5", "invalid_price"}, {"q=x&max_price=NaN", "invalid_price"},
	} {
		var eb booking.ErrorBody
		if status := e.do("GET", "/search?"+c.query, nil, &eb); status != 400 || eb.Error != c.code {
			t.Errorf("search %s: got %d %+v; want 400 %s", c.query, status, eb, c.code)
		}
	}

	// Updates and deactivation reach the index.
	e.must(http.StatusOK, "PUT", "/hotels/"+harbour.ID, booking.HotelInput{
		Name: "Seaside Lodge", Locality: booking.Locality{City: "Lyon", Country: "FR"},
	}, nil)
	e.eventually("renamed hotel found by its new name", func() bool {
		return reflect.DeepEqual(ids(e.search("q=seasde")), []string{harbour.ID}) && len(e.search("q=harbour").Hits) == 0
	})
	inactive := false
	e.must(http.StatusOK, "PUT", "/hotels/"+airport.ID, booking.HotelInput{
		Name: "Airport Inn", Locality: booking.Locality{City: "Paris", Country: "FR"}, Active: &inactive,
	}, nil)
	e.eventually("inactive hotel gone from search", func() bool { return len(e.search("q=airport").Hits) == 0 })

	// Rebuild from the database: a second service with no event feed
	// finds what the first one created.
	cfg := e.cfg
	cfg.HotelReceiver, cfg.BookingReceiver, cfg.Ops = nil, nil, ops.New("booking_rebuild")
	svc2, err := booking.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r, _ := svc2.Search(ctx, booking.SearchRequest{Text: "seaside"}); len(r.Hits) != 0 {
		t.Fatalf("fresh index found %v before a rebuild", ids(r))
	}
	if err := svc2.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := svc2.Search(ctx, booking.SearchRequest{Text: "seasid lodge"})
	if err != nil || !reflect.DeepEqual(ids(r), []string{harbour.ID}) {
		t.Errorf("after rebuild: got %v, %v; want the Seaside Lodge", ids(r), err)
	}
	if n := svc2.Index().Len(); n != 1 {
		t.Errorf("rebuilt index holds %d hotels; want 1 (the inactive one left out)", n)
	}
	var rb map[string]int
	e.must(http.StatusOK, "POST", "/search/rebuild", nil, &rb)
	if rb["docs"] != 1 {
		t.Errorf("POST /search/rebuild: %v; want 1 doc", rb)
	}
}

func testBookings(t *testing.T, newStack stackFunc) {
	e := start(t, newStack)
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "r1", 3, 80)

	status, b, eb := e.book("key-1", "alice", "r1", 2, 5, 8)
	if status != http.StatusCreated || b.State != reservation.Reserved || b.ExpiresAt == nil || b.Quantity != 2 {
		t.Fatalf("POST /bookings: %d %+v %+v; want 201 reserved with a deadline", status, b, eb)
	}
	// The same key and request: the same booking.
	if status, again, _ := e.book("key-1", "alice", "r1", 2, 5, 8); status != http.StatusCreated || again.ID != b.ID {
		t.Errorf("replay: %d %s; want 201 %s", status, again.ID, b.ID)
	}
	// The same key with another request: refused.
	if status, _, eb := e.book("key-1", "alice", "r1", 1, 5, 8); status != 422 || eb.Error != "idempotency_mismatch" {
		t.Errorf("key reuse: %d %+v; want 422 idempotency_mismatch", status, eb)
	}
	// Only one room is left on those nights.
	if status, _, eb := e.book("key-2", "bob", "r1", 2, 6, 7); status != 409 || eb.Error != "sold_out" {
		t.Errorf("overbooking: %d %+v; want 409 sold_out", status, eb)
	}

	var paid booking.BookingView
	e.must(http.StatusOK, "POST", "/bookings/"+b.ID+"/payment", booking.Payment{Status: "success", PaymentID: "ch_1"}, &paid)
	if paid.State != reservation.Booked || paid.InvoiceID == "" || paid.PaymentID != "ch_1" {
		t.Errorf("payment success: %+v; want booked with an invoice", paid)
	}
	var again booking.BookingView
	e.must(http.StatusOK, "POST", "/bookings/"+b.ID+"/payment", booking.Payment{Status: "success", PaymentID: "ch_1"}, &again)
	if !reflect.DeepEqual(again, paid) {
		t.Errorf("duplicate callback: %+v; want %+v", again, paid)
	}
	var eb2 booking.ErrorBody
	if status := e.do("POST", "/bookings/"+b.ID+"/payment", booking.Payment{Status: "failure"}, &eb2); status != 409 || eb2.Error != "invalid_state" || eb2.Booking == nil || eb2.Booking.State != reservation.Booked {
		t.Errorf("failure after success: %d %+v; want 409 invalid_state with the booked booking", status, eb2)
	}
	var eb3 booking.ErrorBody
	if status := e.do("POST", "/bookings/"+b.ID+"/payment", booking.Payment{Status: "success", PaymentID: "ch_2"}, &eb3); status != 409 || eb3.Error != "duplicate_payment" || eb3.Booking == nil || eb3.Booking.PaymentID != "ch_1" {
		t.Errorf("second, different payment: %d %+v; want 409 duplicate_payment with the booking paid by ch_1", status, eb3)
	}
	var got booking.BookingView
	e.must(http.StatusOK, "GET", "/bookings/"+b.ID, nil, &got)
	if !reflect.DeepEqual(got, paid) {
		t.Errorf("GET after stale failure: %+v; want %+v", got, paid)
	}

	// A failed payment releases the hold.
	_, h2, _ := e.book("key-3", "bob", "r1", 1, 5, 6)
	var failed booking.BookingView
	e.must(http.StatusOK, "POST", "/bookings/"+h2.ID+"/payment", booking.Payment{Status: "failure"}, &failed)
	if failed.State != reservation.Cancelled || failed.Reason != "payment_failed" {
		t.Errorf("payment failure: %+v; want cancelled, payment_failed", failed)
	}
	if n := e.availability("r1"); n[5].Available != 1 {
		t.Errorf("night 5 after the failure: %d available; want 1", n[5].Available)
	}
}

func testBadBookings(t *testing.T, newStack stackFunc) {
	e := start(t, newStack)
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "r1", 3, 80)
	off := false
	e.must(http.StatusOK, "PUT", "/hotels/"+h.ID+"/rooms/closed", booking.RoomInput{Name: "Closed", Quantity: 1, Active: &off}, nil)
	_, final, _ := e.book("final", "carol", "r1", 1, 2, 3)
	e.must(http.StatusOK, "POST", "/bookings/"+final.ID+"/payment", booking.Payment{Status: "failure"}, nil)
	_, held, _ := e.book("held", "carol", "r1", 1, 2, 3)
	_, byUser, _ := e.book("by-user", "carol", "r1", 1, 2, 3)
	if _, err := e.svc.Reservations().Cancel(context.Background(), byUser.ID); err != nil {
		t.Fatal(err)
	}

	var finalBefore, heldBefore, byUserBefore booking.BookingView
	e.must(http.StatusOK, "GET", "/bookings/"+byUser.ID, nil, &byUserBefore)
	e.must(http.StatusOK, "GET", "/bookings/"+final.ID, nil, &finalBefore)
	e.must(http.StatusOK, "GET", "/bookings/"+held.ID, nil, &heldBefore)
	availBefore := e.availability("r1")
	holdsBefore := e.svc.Reservations().Stats().Holds

	req := func(room string, qty int, in, out string) booking.BookRequest {
		return booking.BookRequest{User: "dave", Room: room, Quantity: qty, CheckIn: in, CheckOut: out}
	}
	for _, c := range []struct {
		name        string
		key         string
		body        any
		status      int
		code, field string
	}{
		{"unknown room", "b1", req("nope", 1, e.day(1), e.day(2)), 422, "unknown_room", "room"},
		{"inactive room", "b2", req("closed", 1, e.day(1), e.day(2)), 422, "room_inactive", "room"},
		{"zero quantity", "b3", req("r1", 0, e.day(1), e.day(2)), 400, "invalid_quantity", "quantity"},
		{"negative quantity", "b4", req("r1", -2, e.day(1), e.day(2)), 400, "invalid_quantity", "quantity"},
		{"too many rooms", "b5", req("r1", 101, e.day(1), e.day(2)), 400, "invalid_quantity", "quantity"},
		{"check-out on check-in", "b6", req("r1", 1, e.day(3), e.day(3)), 400, "invalid_stay", "check_out"},
		{"check-out before check-in", "b7", req("r1", 1, e.day(3), e.day(1)), 400, "invalid_stay", "check_out"},
		{"stay too long", "b8", req("r1", 1, e.day(1), e.day(32)), 400, "stay_too_long", "check_out"},
		{"check-in in the past", "b9", req("r1", 1, e.day(-1), e.day(2)), 400, "date_in_past", "check_in"},
		{"malformed date", "b10", req("r1", 1, "2026-13-01", e.day(2)), 400, "invalid_date", "check_in"},
		{"no user", "b11", req("r1", 1, e.day(1), e.day(2)), 400, "invalid_id", "user"},
		{"no idempotency key", "", req("r1", 1, e.day(1), e.day(2)), 400, "invalid_idempotency_key", "Idempotency-Key"},
		{"unknown field", "b12", `{"user":"u","room":"r1","quantity":1,"check_in":"` + e.day(1) + `","check_out":"` + e.day(2) + `","x":1}`, 400, "invalid_body", ""},
	} {
		body := c.body
		if c.name == "no user" {
			r := body.(booking.BookRequest)
			r.User = ""
			body = r
		}
		var eb booking.ErrorBody
		status := e.do("POST", "/bookings", body, &eb, "Idempotency-Key", c.key)
		if status != c.status || eb.Error != c.code || eb.Field != c.field || eb.Message == "" {
			t.Errorf("%s: got %d %+v; want %d %s field %q", c.name, status, eb, c.status, c.code, c.field)
		}
	}
	for _, c := range []struct {
		name, id string
		body     any
		status   int
		code     string
	}{
		{"unknown booking", "bk_nope", booking.Payment{Status: "success"}, 404, "not_found"},
		{"unknown status", held.ID, `{"status":"maybe"}`, 400, "invalid_status"},
		{"no status", held.ID, `{}`, 400, "invalid_status"},
		{"success on a booking cancelled by its user", byUser.ID, booking.Payment{Status: "success"}, 409, "booking_final"},
		{"failure on a booking cancelled by its user", byUser.ID, booking.Payment{Status: "failure"}, 409, "booking_final"},
		{"failure on a cancelled booking", final.ID, booking.Payment{Status: "failure"}, 409, "booking_final"},
		{"bad payment id", held.ID, booking.Payment{Status: "success", PaymentID: "a b"}, 400, "invalid_payment_id"},
	} {
		var eb booking.ErrorBody
		status := e.do("POST", "/bookings/"+c.id+"/payment", c.body, &eb)
		if status != c.status || eb.Error != c.code || eb.Message == "" {
			t.Errorf("payment, %s: got %d %+v; want %d %s", c.name, status, eb, c.status, c.code)
		}
	}
	var eb booking.ErrorBody
	if status := e.do("GET", "/bookings/bk_nope", nil, &eb); status != 404 || eb.Error != "not_found" {
		t.Errorf("GET unknown booking: %d %+v; want 404 not_found", status, eb)
	}

	// Nothing changed: no hold, the same inventory, the same bookings.
	if got := e.svc.Reservations().Stats().Holds; got != holdsBefore {
		t.Errorf("holds after bad requests: %d; want %d", got, holdsBefore)
	}
	if got := e.availability("r1"); !reflect.DeepEqual(got, availBefore) {
		t.Errorf("inventory after bad requests changed")
	}
	var finalAfter, heldAfter, byUserAfter booking.BookingView
	e.must(http.StatusOK, "GET", "/bookings/"+byUser.ID, nil, &byUserAfter)
	if !reflect.DeepEqual(byUserAfter, byUserBefore) {
		t.Errorf("booking cancelled by its user after payments: %+v; want %+v", byUserAfter, byUserBefore)
	}
	e.must(http.StatusOK, "GET", "/bookings/"+final.ID, nil, &finalAfter)
	e.must(http.StatusOK, "GET", "/bookings/"+held.ID, nil, &heldAfter)
	if !reflect.DeepEqual(finalAfter, finalBefore) || !reflect.DeepEqual(heldAfter, heldBefore) {
		t.Errorf("bookings after bad payments:\n got %+v\n     %+v\nwant %+v\n     %+v", finalAfter, heldAfter, finalBefore, heldBefore)
	}
}

func testExpiry(t *testing.T, newStack stackFunc) {
	e := start(t, newStack, func(c *booking.Config) { c.Reservation.HoldTTL = time.Minute })
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "r1", 1, 80)
	_, b, _ := e.book("k1", "alice", "r1", 1, 1, 2)
	if status, _, eb := e.book("k2", "bob", "r1", 1, 1, 2); status != 409 || eb.Error != "sold_out" {
		t.Fatalf("second hold: %d %+v; want sold_out", status, eb)
	}
	e.clock.Advance(2 * time.Minute)
	// The sweeper cancels the expired hold.
	e.eventually("expired hold cancelled", func() bool {
		var got booking.BookingView
		e.must(http.StatusOK, "GET", "/bookings/"+b.ID, nil, &got)
		return got.State == reservation.Cancelled && got.Reason == "expired"
	})
	if status, b2, eb := e.book("k3", "bob", "r1", 1, 1, 2); status != http.StatusCreated {
		t.Errorf("hold after expiry: %d %+v; want 201", status, eb)
	} else {
		var paid booking.BookingView
		e.must(http.StatusOK, "POST", "/bookings/"+b2.ID+"/payment", booking.Payment{Status: "success"}, &paid)
		if paid.State != reservation.Booked {
			t.Errorf("paid: %+v", paid)
		}
	}
}

// testLatePayments sends success callbacks after the sweeper cancelled
// the hold: the stay is rebooked while its nights are free, otherwise the
// payment is recorded for refund; replays answer the same, other payments
// and payments for bookings cancelled by their user change nothing.
func testLatePayments(t *testing.T, newStack stackFunc) {
	e := start(t, newStack, func(c *booking.Config) { c.Reservation.HoldTTL = time.Minute })
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "free", 1, 80)
	e.room(h.ID, "sold", 1, 80)
	e.room(h.ID, "race", 1, 80)
	_, free, _ := e.book("free", "alice", "free", 1, 1, 3)
	_, sold, _ := e.book("sold", "bob", "sold", 1, 1, 2)
	_, race, _ := e.book("race", "dave", "race", 1, 1, 2)
	e.clock.Advance(2 * time.Minute)
	for _, b := range []booking.BookingView{free, sold, race} {
		e.eventually("hold "+b.ID+" cancelled by the sweeper", func() bool {
			var got booking.BookingView
			e.must(http.StatusOK, "GET", "/bookings/"+b.ID, nil, &got)
			return got.State == reservation.Cancelled && got.Reason == "expired"
		})
	}
	// Another guest takes the room of the "sold" stay meanwhile.
	_, taker, eb := e.book("taker", "carol", "sold", 1, 1, 2)
	if taker.ID == "" {
		t.Fatalf("hold of the freed room: %+v", eb)
	}
	pay := func(id, payment string) (int, json.RawMessage) {
		var raw json.RawMessage
		status := e.do("POST", "/bookings/"+id+"/payment", booking.Payment{Status: "success", PaymentID: payment}, &raw)
		return status, raw
	}
	get := func(id string) booking.BookingView {
		var v booking.BookingView
		e.must(http.StatusOK, "GET", "/bookings/"+id, nil, &v)
		return v
	}

	// Rebooked: a new booking, booked, naming the hold; the hold names it.
	status, raw := pay(free.ID, "ch_free")
	var rebooked booking.BookingView
	_ = json.Unmarshal(raw, &rebooked)
	if status != 200 || rebooked.State != reservation.Booked || rebooked.Rebooks != free.ID || rebooked.ID == free.ID ||
		rebooked.PaymentID != "ch_free" || rebooked.InvoiceID == "" || rebooked.Reason != "late_payment" {
		t.Fatalf("late payment, nights free: %d %s; want 200 and a new booked booking rebooking %s", status, raw, free.ID)
	}
	if got := get(rebooked.ID); got.State != reservation.Booked || got.Rebooks != free.ID {
		t.Errorf("GET of the rebooking: %+v", got)
	}
	holdAfter := get(free.ID)
	if holdAfter.State != reservation.Cancelled || holdAfter.RebookedAs != rebooked.ID {
		t.Errorf("GET of the rebooked hold: %+v; want cancelled, rebooked_as %s", holdAfter, rebooked.ID)
	}
	if n := e.availability("free"); n[1].Available != 0 || n[2].Available != 0 {
		t.Errorf("nights of the rebooked stay: %+v; want taken", n[1:3])
	}

	// Refund: the night was sold meanwhile.
	status, raw = pay(sold.ID, "ch_sold")
	var refunded booking.BookingView
	_ = json.Unmarshal(raw, &refunded)
	if status != 200 || refunded.ID != sold.ID || refunded.State != reservation.Cancelled || !refunded.RefundRequired || refunded.PaymentID != "ch_sold" {
		t.Fatalf("late payment, night sold: %d %s; want 200, the hold cancelled with refund_required and the payment", status, raw)
	}
	if got := get(sold.ID); !reflect.DeepEqual(got, refunded) {
		t.Errorf("GET of the refunded hold: %+v; want %+v", got, refunded)
	}
	if got := get(taker.ID); got.State != reservation.Reserved {
		t.Errorf("the other guest's hold: %+v; want untouched", got)
	}

	// Replays answer the same; another payment, or a failure, changes nothing.
	want := map[string]booking.BookingView{free.ID: holdAfter, rebooked.ID: get(rebooked.ID), sold.ID: get(sold.ID)}
	availBefore := [][]reservation.Night{e.availability("free"), e.availability("sold")}
	for _, c := range []struct{ id, payment string }{{free.ID, "ch_free"}, {sold.ID, "ch_sold"}} {
		status, again := pay(c.id, c.payment)
		var first, second booking.BookingView
		_ = json.Unmarshal(again, &second)
		if c.id == free.ID {
			first = rebooked
		} else {
			first = refunded
		}
		if status != 200 || !reflect.DeepEqual(first, second) {
			t.Errorf("replay of %s for %s: %d %s; want 200 %+v", c.payment, c.id, status, again, first)
		}
	}
	for _, c := range []struct{ id, payment, code string }{
		{free.ID, "ch_other", "duplicate_payment"},
		{rebooked.ID, "ch_other", "duplicate_payment"},
		{sold.ID, "ch_other", "duplicate_payment"},
	} {
		status, raw := pay(c.id, c.payment)
		var eb booking.ErrorBody
		_ = json.Unmarshal(raw, &eb)
		if status != 409 || eb.Error != c.code {
			t.Errorf("payment %s for %s: %d %s; want 409 %s", c.payment, c.id, status, raw, c.code)
		}
	}
	for _, id := range []string{free.ID, sold.ID} {
		var eb booking.ErrorBody
		if status := e.do("POST", "/bookings/"+id+"/payment", booking.Payment{Status: "failure"}, &eb); status != 409 || eb.Error != "booking_final" {
			t.Errorf("failure reported for %s: %d %+v; want 409 booking_final", id, status, eb)
		}
	}
	for id, v := range want {
		if got := get(id); !reflect.DeepEqual(got, v) {
			t.Errorf("%s after duplicate callbacks: %+v; want %+v", id, got, v)
		}
	}
	if got := [][]reservation.Night{e.availability("free"), e.availability("sold")}; !reflect.DeepEqual(got, availBefore) {
		t.Errorf("inventory changed by duplicate callbacks")
	}

	// A success reported after a failure (reordered callbacks) is late
	// too: the stay is rebooked.
	_, failed, _ := e.book("failed", "erin", "free", 1, 5, 6)
	e.must(http.StatusOK, "POST", "/bookings/"+failed.ID+"/payment", booking.Payment{Status: "failure"}, nil)
	if status, raw := pay(failed.ID, "ch_failed"); status != 200 || !strings.Contains(string(raw), `"rebooks":"`+failed.ID+`"`) {
		t.Errorf("success after failure: %d %s; want 200 and a rebooking", status, raw)
	}

	// The same late callback delivered by many goroutines at once books
	// the stay once.
	const n = 12
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var v booking.BookingView
			if status := e.do("POST", "/bookings/"+race.ID+"/payment", booking.Payment{Status: "success", PaymentID: "ch_race"}, &v); status != 200 {
				t.Errorf("concurrent late callback %d: %d", i, status)
			}
			got[i] = v.ID
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == race.ID || got[i] == "" {
			t.Fatalf("concurrent late callbacks answered %v; want one rebooking", got)
		}
	}
	list, err := e.svc.Reservations().RoomBookings(context.Background(), "race", reservation.DateFromTime(e.clock.Now().UTC()), reservation.DateFromTime(e.clock.Now().UTC()).AddDays(5), 10)
	if err != nil || len(list) != 1 || list[0].ID != got[0] {
		t.Errorf("bookings of the raced room: %v, %v; want only %s", list, err, got[0])
	}
}

func testLastRooms(t *testing.T, newStack stackFunc) {
	// Many guests race for the last rooms over HTTP: exactly the rooms
	// offered are held, the others are told sold_out.
	e := start(t, newStack)
	h := e.hotel("Airport Inn", "Paris")
	const rooms, guests = 5, 40
	e.room(h.ID, "r1", rooms, 80)
	var won, lost atomic.Int64
	var wg sync.WaitGroup
	for i := range guests {
		wg.Go(func() {
			status, _, eb := e.book(fmt.Sprintf("g%d", i), fmt.Sprintf("u%d", i), "r1", 1, 3, 5)
			switch {
			case status == http.StatusCreated:
				won.Add(1)
			case status == 409 && eb.Error == "sold_out":
				lost.Add(1)
			default:
				t.Errorf("guest %d: %d %+v", i, status, eb)
			}
		})
	}
	wg.Wait()
	if won.Load() != rooms || lost.Load() != guests-rooms {
		t.Errorf("%d held, %d sold out; want %d, %d", won.Load(), lost.Load(), rooms, guests-rooms)
	}
	if n := e.availability("r1"); n[3].Available != 0 || n[4].Available != 0 || n[5].Available != rooms {
		t.Errorf("nights 3, 4, 5: %+v %+v %+v; want 0, 0, %d available", n[3], n[4], n[5], rooms)
	}
}

func testView(t *testing.T, newStack stackFunc) {
	e := start(t, newStack)
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "r1", 4, 80)
	e.room(h.ID, "r2", 2, 120)

	view := func() booking.View {
		var v booking.View
		e.must(http.StatusOK, "GET", "/hotels/"+h.ID+"/bookings", nil, &v)
		return v
	}
	before := e.avail.calls.Load()
	v1 := view()
	if got := e.avail.calls.Load() - before; got != 4 {
		t.Errorf("first view read: %d store calls; want 4 (counts and bookings of each room)", got)
	}
	if len(v1.Rooms) != 2 || len(v1.Rooms[0].Nights) != booking.DefaultViewDays || v1.Rooms[0].Nights[0].Offered != 4 {
		t.Fatalf("view: %+v", v1)
	}
	before = e.avail.calls.Load()
	v2 := view()
	if got := e.avail.calls.Load() - before; got != 0 {
		t.Errorf("second view read: %d availability or booking store calls; want 0 (served from the cache)", got)
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Errorf("second view differs from the first")
	}

	// A booking event invalidates the view: the next read shows it.
	_, b, _ := e.book("k1", "alice", "r1", 3, 1, 3)
	v3 := view()
	if v3.Rooms[0].Nights[1].Taken != 3 || v3.Rooms[0].Nights[2].Taken != 3 || v3.Rooms[0].Nights[3].Taken != 0 {
		t.Errorf("view after a hold of 3 on nights 1-2: %+v", v3.Rooms[0].Nights[:4])
	}
	if got := v3.Rooms[0].Bookings; len(got) != 1 || got[0].ID != b.ID || got[0].User != "alice" || got[0].Room != "r1" ||
		got[0].Quantity != 3 || got[0].Nights != 2 || got[0].State != reservation.Reserved || got[0].ExpiresAt == nil ||
		!got[0].ExpiresAt.Equal(*b.ExpiresAt) || got[0].CheckIn.String() != e.day(1) {
		t.Errorf("bookings of r1 after a hold of 3 on nights 1-2: %+v; want the hold with its deadline", got)
	}
	if len(v3.Rooms[1].Bookings) != 0 {
		t.Errorf("bookings of r2: %+v; want none", v3.Rooms[1].Bookings)
	}
	e.must(http.StatusOK, "POST", "/bookings/"+b.ID+"/payment", booking.Payment{Status: "failure"}, nil)
	if v := view(); v.Rooms[0].Nights[1].Taken != 0 || len(v.Rooms[0].Bookings) != 0 {
		t.Errorf("view after the failed payment: %+v, bookings %+v", v.Rooms[0].Nights[:3], v.Rooms[0].Bookings)
	}
	// A paid stay is listed as booked, without a deadline; an expired
	// hold is not listed once the sweeper has cancelled it.
	_, paid, _ := e.book("k2", "bob", "r2", 1, 0, 1)
	e.must(http.StatusOK, "POST", "/bookings/"+paid.ID+"/payment", booking.Payment{Status: "success"}, nil)
	if got := view().Rooms[1].Bookings; len(got) != 1 || got[0].ID != paid.ID || got[0].State != reservation.Booked || got[0].ExpiresAt != nil {
		t.Errorf("bookings of r2 after a paid stay: %+v", got)
	}
	before = e.avail.calls.Load()
	view()
	if got := e.avail.calls.Load() - before; got != 0 {
		t.Errorf("view read after reload: %d availability store calls; want 0", got)
	}

	// A booking event from another process, through the booking topic,
	// invalidates it too.
	ev, _ := json.Marshal(booking.BookingEvent{Type: reservation.EventBooked, Hotel: h.ID, Booking: booking.BookingView{ID: "bk_other", Room: "r1"}})
	if err := events.NewPublisher(e.stack.Events, nil).Publish(context.Background(),
		events.Message{Topic: e.stack.BookingTopic, Key: []byte("bk_other"), Value: ev}); err != nil {
		t.Fatal(err)
	}
	e.eventually("view reloaded after a remote booking event", func() bool {
		before := e.avail.calls.Load()
		view()
		return e.avail.calls.Load() > before
	})
}

func TestFlowMemory(t *testing.T) { suite(t, memoryStack) }

func testHistory(t *testing.T, newStack stackFunc) {
	e := start(t, newStack, func(c *booking.Config) { c.ArchiveAge = time.Hour })
	h := e.hotel("Airport Inn", "Paris")
	e.room(h.ID, "r1", 10, 80)
	var made []booking.BookingView // oldest first
	for i := range 5 {
		status, b, eb := e.book(fmt.Sprintf("k%d", i), "alice", "r1", 1, 1+i, 2+i)
		if status != http.StatusCreated {
			t.Fatalf("book: %d %+v", status, eb)
		}
		made = append(made, b)
		e.clock.Advance(time.Second) // distinct creation times
	}
	e.book("other", "bob", "r1", 1, 1, 2)
	// 0 and 2 fail (Cancelled: due for the archive), 1 is paid, 3 and 4 stay held.
	e.must(http.StatusOK, "POST", "/bookings/"+made[0].ID+"/payment", booking.Payment{Status: "failure"}, nil)
	e.must(http.StatusOK, "POST", "/bookings/"+made[1].ID+"/payment", booking.Payment{Status: "success"}, nil)
	e.must(http.StatusOK, "POST", "/bookings/"+made[2].ID+"/payment", booking.Payment{Status: "failure"}, nil)

	e.clock.Advance(2 * time.Hour)
	moved, err := e.svc.Archive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The two cancelled ones moved, and so did the holds that expired
	// meanwhile once the sweeper cancelled them (if it has by now).
	if moved < 2 {
		t.Fatalf("archived %d bookings; want at least the 2 cancelled", moved)
	}
	for _, id := range []string{made[0].ID, made[2].ID} {
		if _, err := e.svc.Reservations().Get(context.Background(), id); err == nil {
			t.Errorf("booking %s still in the availability database after archiving", id)
		}
	}

	// An archived booking is found with its owner.
	var eb booking.ErrorBody
	if status := e.do("GET", "/bookings/"+made[0].ID, nil, &eb); status != 404 || eb.Error != "not_found" {
		t.Errorf("GET of an archived booking without ?user=: %d %+v; want 404", status, eb)
	}
	var arch booking.BookingView
	e.must(http.StatusOK, "GET", "/bookings/"+made[0].ID+"?user=alice", nil, &arch)
	if arch.ID != made[0].ID || arch.User != "alice" || !arch.Archived || arch.State != reservation.Cancelled || arch.Reason != "payment_failed" {
		t.Errorf("GET of an archived booking with its owner: %+v", arch)
	}
	if status := e.do("GET", "/bookings/"+made[0].ID+"?user=bob", nil, &eb); status != 404 || eb.Error != "not_found" {
		t.Errorf("GET of an archived booking with another user: %d %+v; want 404", status, eb)
	}
	if status := e.do("GET", "/bookings/"+made[0].ID+"?user=a%20b", nil, &eb); status != 400 || eb.Error != "invalid_id" {
		t.Errorf("GET with a malformed user: %d %+v; want 400 invalid_id", status, eb)
	}
	var liveB booking.BookingView
	e.must(http.StatusOK, "GET", "/bookings/"+made[1].ID+"?user=alice", nil, &liveB)
	if liveB.Archived || liveB.State != reservation.Booked {
		t.Errorf("GET of a live booking with ?user=: %+v", liveB)
	}

	// Pages of 2, newest first: every booking of alice exactly once.
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		var hist booking.History
		e.must(http.StatusOK, "GET", "/users/alice/bookings?limit=2&cursor="+cursor, nil, &hist)
		if len(hist.Bookings) > 2 || page > 5 {
			t.Fatalf("page %d: %d bookings", page, len(hist.Bookings))
		}
		for _, b := range hist.Bookings {
			if b.User != "alice" {
				t.Errorf("booking of %s in alice's history", b.User)
			}
			got = append(got, b.ID)
		}
		if hist.Next == "" {
			break
		}
		cursor = hist.Next
	}
	want := []string{made[4].ID, made[3].ID, made[2].ID, made[1].ID, made[0].ID}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alice's history: got %v; want %v", got, want)
	}
	var hist booking.History
	e.must(http.StatusOK, "GET", "/users/nobody/bookings", nil, &hist)
	if len(hist.Bookings) != 0 || hist.Next != "" {
		t.Errorf("history of an unknown user: %+v; want empty", hist)
	}
	for _, c := range []struct{ query, code string }{
		{"limit=0x", "invalid_limit"}, {"limit=-1", "invalid_limit"}, {"limit=101", "invalid_limit"},
		{"cursor=!!!", "invalid_cursor"}, {"cursor=bm90LWEtY3Vyc29y", "invalid_cursor"},
	} {
		var eb booking.ErrorBody
		if status := e.do("GET", "/users/alice/bookings?"+c.query, nil, &eb); status != 400 || eb.Error != c.code {
			t.Errorf("history ?%s: %d %+v; want 400 %s", c.query, status, eb, c.code)
		}
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
