package rides_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/geogrid"
)

func TestMain(m *testing.M) {
	code := m.Run()
	// internal/testenv creates Kafka topics through kafka-go's
	// DefaultTransport, whose connection pool outlives the tests.
	kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestFlowMemory drives the whole service over HTTP and websockets on the
// in-memory stack.
func TestFlowMemory(t *testing.T) { flowSuite(t, memoryStack) }

const nDrivers = 20

func suiteConfig() rides.Config {
	return rides.Config{Dispatch: geogrid.DispatchOptions{K: nDrivers + 5}}
}

// flowSuite is the end-to-end suite, run on every stack.
func flowSuite(t *testing.T, newStack stackFunc) {
	e := start(t, newStack, suiteConfig())

	// Drivers connect and ping around the pickup point, 30 m apart.
	drivers := make([]*driver, nDrivers)
	byID := map[string]*driver{}
	for i := range drivers {
		d := e.connect(fmt.Sprintf("d%02d", i))
		d.ping(pickLat+float64(i)*0.00027, pickLng)
		drivers[i] = d
		byID[d.id] = d
	}

	t.Run("Cabs", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/v1/cabs?lat=%v&lng=%v&k=50", pickLat, pickLng), "")
		var out struct {
			Cabs []struct {
				Driver     string  `json:"driver"`
				Meters     float64 `json:"meters"`
				ETASeconds float64 `json:"eta_s"`
			} `json:"cabs"`
		}
		r.json(t, &out)
		if r.status != 200 || len(out.Cabs) != nDrivers {
			t.Fatalf("cabs: got %d, %d cabs; want 200, %d", r.status, len(out.Cabs), nDrivers)
		}
		for i, c := range out.Cabs {
			if c.Driver != drivers[i].id || (i > 0 && c.Meters < out.Cabs[i-1].Meters) {
				t.Errorf("cab %d: got %s at %v m; want %s, nearest first", i, c.Driver, c.Meters, drivers[i].id)
			}
		}
		// StraightLine: 30 m apart * 1.3 detour at 30 km/h = 4.7 s per driver.
		if got := out.Cabs[10].ETASeconds; math.Abs(got-10*30.0*1.3/(30/3.6)) > 0.5 {
			t.Errorf("ETA of the 11th cab: got %v s; want about %v", got, 10*30.0*1.3/(30/3.6))
		}
		r = e.do("GET", fmt.Sprintf("/v1/cabs?lat=%v&lng=%v&k=3&radius=100", pickLat, pickLng), "")
		r.json(t, &out)
		if len(out.Cabs) != 3 {
			t.Errorf("cabs k=3 radius=100: got %d; want 3", len(out.Cabs))
		}
	})

	t.Run("Estimate", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/v1/estimate?lat=%v&lng=%v&dest_lat=%v&dest_lng=%v", pickLat, pickLng, dropLat, dropLng), "")
		var q struct {
			Cabs       int      `json:"cabs"`
			PickupETAS *float64 `json:"pickup_eta_s"`
			Meters     float64  `json:"meters"`
			DurationS  float64  `json:"duration_s"`
			Surge      float64  `json:"surge"`
			Fare       float64  `json:"fare"`
			Supply     int      `json:"supply"`
		}
		r.json(t, &q)
		want := geogrid.Distance(pickLat, pickLng, dropLat, dropLng)
		switch {
		case r.status != 200:
			t.Fatalf("estimate: got %d %s", r.status, r.body)
		case q.Cabs != nDrivers || q.PickupETAS == nil || *q.PickupETAS != 0:
			t.Errorf("estimate: got %d cabs, pickup ETA %v; want %d and 0 (a driver at the pickup)", q.Cabs, q.PickupETAS, nDrivers)
		case math.Abs(q.Meters-want) > 1 || q.DurationS <= 0:
			t.Errorf("estimate: got %v m, %v s; want %v m", q.Meters, q.DurationS, want)
		case q.Surge != 1 || q.Supply < nDrivers:
			t.Errorf("estimate: got surge %v with supply %d; want 1 with %d drivers", q.Surge, q.Supply, nDrivers)
		}
		if exp := math.Round((50+12*want*1.3/1000+2*q.DurationS/60)*100) / 100; math.Abs(q.Fare-exp) > 0.02 {
			t.Errorf("fare: got %v; want %v", q.Fare, exp)
		}
	})

	var winner *driver
	var tripID string
	t.Run("BroadcastOneWinner", func(t *testing.T) {
		// Every driver gets the offer; 20 accept at once; exactly one wins.
		tr := e.book("r1", false)
		tripID = tr.ID
		if tr.State != "requested" || tr.Surge != 1 || tr.Fare <= 0 {
			t.Errorf("booked: got %+v; want requested, surge 1, a fare", tr)
		}
		for _, d := range drivers {
			if o := d.offer(tr.ID); o.Offer.Round != 1 || o.Offer.Rider != "r1" {
				t.Errorf("offer to %s: got %+v; want round 1 for r1", d.id, o.Offer)
			}
		}
		if got := e.trip(tr.ID); got.State != "offered" {
			t.Errorf("after the offers: got state %s; want offered", got.State)
		}
		replies := make([]frame, len(drivers))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, d := range drivers {
			wg.Go(func() {
				<-start
				replies[i] = d.request(map[string]any{"type": "accept", "trip": tr.ID})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, r := range replies {
			switch {
			case r.Type == "accepted" && r.Trip != nil && r.Trip.Driver == drivers[i].id && r.Trip.State == "accepted":
				won++
				winner = drivers[i]
			case r.Type == "error" && r.Code == "claimed" && r.TripID == tr.ID:
			default:
				t.Errorf("accept by %s: got %+v; want accepted or claimed", drivers[i].id, r)
			}
		}
		if won != 1 {
			t.Fatalf("accepts: %d winners; want exactly 1", won)
		}
		got := e.trip(tr.ID)
		if got.State != "accepted" || got.Driver != winner.id || got.PickupETAS == nil {
			t.Fatalf("trip: got %+v; want accepted by %s", got, winner.id)
		}
		// Accepting again: the winner keeps it, a loser still loses.
		if r := winner.request(map[string]any{"type": "accept", "trip": tr.ID}); r.Type != "accepted" {
			t.Errorf("winner accepts again: got %+v; want accepted", r)
		}
		loser := drivers[0]
		if loser == winner {
			loser = drivers[1]
		}
		if r := loser.request(map[string]any{"type": "accept", "trip": tr.ID}); r.Code != "claimed" {
			t.Errorf("loser accepts again: got %+v; want claimed", r)
		}
		// The winner is busy: not among the cabs any more.
		var out struct{ Cabs []struct{ Driver string } }
		e.do("GET", fmt.Sprintf("/v1/cabs?lat=%v&lng=%v&k=50", pickLat, pickLng), "").json(t, &out)
		if len(out.Cabs) != nDrivers-1 {
			t.Errorf("cabs during the trip: got %d; want %d", len(out.Cabs), nDrivers-1)
		}
		for _, c := range out.Cabs {
			if c.Driver == winner.id {
				t.Errorf("busy driver %s listed among cabs", c.Driver)
			}
		}
		// Only the trip's driver may start it; complete needs started.
		if r := loser.request(map[string]any{"type": "start", "trip": tr.ID}); r.Code != "forbidden" {
			t.Errorf("start by another driver: got %+v; want forbidden", r)
		}
		if r := winner.request(map[string]any{"type": "complete", "trip": tr.ID}); r.Code != "bad_state" {
			t.Errorf("complete before start: got %+v; want bad_state", r)
		}
		// Cancelling is the rider's, and only the trip's rider's.
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r9"}`), 403, "forbidden", "cancel by another rider")
	})
	if winner == nil {
		t.FailNow()
	}

	t.Run("StartComplete", func(t *testing.T) {
		if r := winner.request(map[string]any{"type": "start", "trip": tripID}); r.Type != "started" || r.Trip.State != "started" {
			t.Fatalf("start: got %+v", r)
		}
		e.want(e.do("POST", "/v1/trips/"+tripID+"/cancel", `{"rider":"r1"}`), 409, "bad_state", "cancel a started trip")
		r := winner.request(map[string]any{"type": "complete", "trip": tripID})
		if r.Type != "completed" || r.Trip.State != "completed" || r.Trip.EndedAt == nil {
			t.Fatalf("complete: got %+v", r)
		}
		if r := winner.request(map[string]any{"type": "complete", "trip": tripID}); r.Type != "completed" {
			t.Errorf("complete again: got %+v; want completed (idempotent)", r)
		}
		if got := e.trip(tripID); got.State != "completed" || got.EndedAt == nil {
			t.Errorf("trip: got %+v; want completed", got)
		}
		var h struct{ Trips []tripJSON }
		e.do("GET", "/v1/riders/r1/trips", "").json(t, &h)
		if len(h.Trips) != 1 || h.Trips[0].ID != tripID || h.Trips[0].State != "completed" || h.Trips[0].Driver != winner.id {
			t.Errorf("history of r1: got %+v; want the completed trip", h.Trips)
		}
		// The driver is free again.
		var out struct{ Cabs []struct{ Driver string } }
		e.do("GET", fmt.Sprintf("/v1/cabs?lat=%v&lng=%v&k=50", pickLat, pickLng), "").json(t, &out)
		if len(out.Cabs) != nDrivers {
			t.Errorf("cabs after the trip: got %d; want %d", len(out.Cabs), nDrivers)
		}
	})

	t.Run("CancelWhileOffered", func(t *testing.T) {
		tr := e.book("r2", false)
		for _, d := range drivers {
			d.offer(tr.ID)
		}
		r := e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r2"}`)
		var got tripJSON
		r.json(t, &got)
		if r.status != 200 || got.State != "cancelled" || got.Reason != "rider" {
			t.Fatalf("cancel: got %d %+v", r.status, got)
		}
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r2"}`), 200, "", "cancel again")
		// A late accept finds no open offer, or a cancelled trip.
		if r := drivers[3].request(map[string]any{"type": "accept", "trip": tr.ID}); r.Code != "no_offer" && r.Code != "bad_state" {
			t.Errorf("accept after cancel: got %+v; want no_offer or bad_state", r)
		}
		if got := e.trip(tr.ID); got.State != "cancelled" || got.Driver != "" {
			t.Errorf("after a late accept: got %+v; want cancelled, no driver", got)
		}
		var h struct{ Trips []tripJSON }
		e.do("GET", "/v1/riders/r2/trips", "").json(t, &h)
		if len(h.Trips) != 1 || h.Trips[0].State != "cancelled" {
			t.Errorf("history of r2: got %+v; want the cancelled trip", h.Trips)
		}
	})

	t.Run("CancelAfterAccept", func(t *testing.T) {
		tr := e.book("r3", false)
		for _, d := range drivers {
			d.offer(tr.ID)
		}
		d := drivers[5]
		if r := d.request(map[string]any{"type": "accept", "trip": tr.ID}); r.Type != "accepted" {
			t.Fatalf("accept: got %+v", r)
		}
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r3"}`), 200, "", "cancel after accept")
		if f := d.await("cancelled", func(f frame) bool { return f.Type == "cancelled" }); f.Trip.ID != tr.ID {
			t.Errorf("driver told of cancel: got %+v", f)
		}
		// The driver may take the next trip.
		tr2 := e.book("r3", false)
		d.offer(tr2.ID)
		if r := d.request(map[string]any{"type": "accept", "trip": tr2.ID}); r.Type != "accepted" {
			t.Fatalf("accept the next trip: got %+v", r)
		}
		e.want(e.do("POST", "/v1/trips/"+tr2.ID+"/cancel", `{"rider":"r3"}`), 200, "", "cancel")
	})

	t.Run("Premium", func(t *testing.T) {
		// The best driver (the one at the pickup) is assigned at once, no offers.
		tr := e.book("r4", true)
		got := e.tripIn(tr.ID, "accepted")
		if got.Driver != drivers[0].id || !got.Premium {
			t.Fatalf("premium trip: got %+v; want accepted by %s", got, drivers[0].id)
		}
		if f := drivers[0].await("assigned", func(f frame) bool { return f.Type == "assigned" }); f.Trip.ID != tr.ID {
			t.Errorf("assigned frame: got %+v", f)
		}
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r4"}`), 200, "", "cancel")
		drivers[0].await("cancelled", func(f frame) bool { return f.Type == "cancelled" })
	})

	t.Run("NoDriver", func(t *testing.T) {
		r := e.do("POST", "/v1/trips", `{"rider":"r5","lat":-33.8688,"lng":151.2093,"dest_lat":-33.86,"dest_lng":151.21}`)
		var tr tripJSON
		r.json(t, &tr)
		got := e.tripIn(tr.ID, "cancelled")
		if got.Reason != "no_driver" {
			t.Errorf("trip with nobody near: got %+v; want cancelled, no_driver", got)
		}
	})

	t.Run("RiderBusy", func(t *testing.T) {
		tr := e.book("r6", false)
		r := e.do("POST", "/v1/trips", fmt.Sprintf(`{"rider":"r6","lat":%v,"lng":%v,"dest_lat":%v,"dest_lng":%v}`, pickLat, pickLng, dropLat, dropLng))
		e.want(r, 409, "rider_busy", "second booking of a rider")
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r6"}`), 200, "", "cancel")
	})

	t.Run("BadHTTPInput", func(t *testing.T) {
		before := e.svc.Stats()
		for _, c := range []struct{ method, path, body, code string }{
			{"GET", "/v1/cabs?lat=NaN&lng=77.59", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=91&lng=77.59", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=-180.5", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=Inf", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=x&lng=1", "", "invalid_input"},
			{"GET", "/v1/cabs?lng=77.59", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=77.5&radius=0", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=77.5&radius=1e9", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=77.5&k=0", "", "invalid_input"},
			{"GET", "/v1/cabs?lat=12.9&lng=77.5&k=101", "", "invalid_input"},
			{"GET", "/v1/estimate?lat=12.9&lng=77.5&dest_lat=NaN&dest_lng=77.6", "", "invalid_input"},
			{"GET", "/v1/estimate?lat=12.9&lng=77.5", "", "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7","lat":12.9,"lng":77.5,"dest_lat":95,"dest_lng":77.6}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7","lat":12.9,"lng":77.5}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r 7","lat":12.9,"lng":77.5,"dest_lat":12.8,"dest_lng":77.6}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"","lat":12.9,"lng":77.5,"dest_lat":12.8,"dest_lng":77.6}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7","lat":"12.9","lng":77.5,"dest_lat":12.8,"dest_lng":77.6}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7","lat":12.9,"lng":77.5,"dest_lat":12.8,"dest_lng":77.6,"tip":5}`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7"`, "invalid_input"},
			{"POST", "/v1/trips", `{"rider":"r7","lat":12.9,"lng":77.5,"dest_lat":12.8,"dest_lng":77.6} {}`, "invalid_input"},
			{"GET", "/v1/trips/t_unknown", "", "not_found"},
			{"GET", "/v1/trips/bad%20id", "", "invalid_input"},
			{"POST", "/v1/trips/t_unknown/cancel", `{"rider":"r1"}`, "not_found"},
			{"POST", "/v1/trips/t_unknown/cancel", `{}`, "invalid_input"},
			{"GET", "/v1/riders/r1/trips?limit=0", "", "invalid_input"},
			{"GET", "/v1/drivers/d00/locations?day=yesterday", "", "invalid_input"},
			{"GET", "/v1/map?lat=100", "", "invalid_input"},
			{"GET", "/v1/map?radius=-1", "", "invalid_input"},
			{"GET", "/v1/drivers/ws", "", "invalid_input"},
			{"GET", "/v1/drivers/ws?driver=a%2Fb", "", "invalid_input"},
		} {
			r := e.do(c.method, c.path, c.body)
			status := map[string]int{"invalid_input": 400, "not_found": 404}[c.code]
			e.want(r, status, c.code, c.method+" "+c.path+" "+c.body)
		}
		// A plain GET on the websocket endpoint is refused by the upgrade.
		if r := e.do("GET", "/v1/drivers/ws?driver=d99", ""); r.status/100 != 4 {
			t.Errorf("GET without upgrade: got %d; want 4xx", r.status)
		}
		// Nothing was booked by the bad requests.
		e.want(e.do("GET", "/v1/riders/r7/trips", ""), 200, "", "history")
		var h struct{ Trips []tripJSON }
		e.do("GET", "/v1/riders/r7/trips", "").json(t, &h)
		if len(h.Trips) != 0 {
			t.Errorf("history of r7: got %d trips; want 0", len(h.Trips))
		}
		if st := e.svc.Stats(); st["bookings"] != before["bookings"] || st["bookings_refused"] != before["bookings_refused"] {
			t.Errorf("bookings: got %v and %v refused; want %v and %v (bad input never reaches the store)",
				st["bookings"], st["bookings_refused"], before["bookings"], before["bookings_refused"])
		}
	})

	t.Run("BadFrames", func(t *testing.T) {
		d := e.connect("bad1")
		for _, c := range []struct {
			frame map[string]any
			code  string
		}{
			{map[string]any{"type": "location", "lat": 91, "lng": 77.5}, "invalid_input"},
			{map[string]any{"type": "location", "lat": 12.9, "lng": 181}, "invalid_input"},
			{map[string]any{"type": "location", "lat": 12.9}, "invalid_input"},
			{map[string]any{"type": "accept"}, "invalid_input"},
			{map[string]any{"type": "accept", "trip": "t_unknown"}, "not_found"},
			{map[string]any{"type": "accept", "trip": tripID}, "claimed"},
			{map[string]any{"type": "start", "trip": tripID}, "forbidden"},
			{map[string]any{"type": "fly"}, "unknown_type"},
			{map[string]any{}, "unknown_type"},
		} {
			if r := d.request(c.frame); r.Type != "error" || r.Code != c.code {
				t.Errorf("frame %v: got %+v; want error %s", c.frame, r, c.code)
			}
		}
		// Still connected: a good ping works. 5 km away: outside the
		// dispatch radius.
		d.ping(pickLat, pickLng+0.05)

		// Accepting an offer made to someone else: no_offer.
		tr := e.book("r8", false)
		drivers[0].offer(tr.ID)
		if r := d.request(map[string]any{"type": "accept", "trip": tr.ID}); r.Code != "no_offer" {
			t.Errorf("accept without an offer: got %+v; want no_offer", r)
		}
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"r8"}`), 200, "", "cancel")

		for _, c := range []struct {
			name string
			typ  websocket.MessageType
			data []byte
			want websocket.StatusCode
		}{
			{"not json", websocket.MessageText, []byte("hello"), websocket.StatusInvalidFramePayloadData},
			{"json array", websocket.MessageText, []byte(`[1,2]`), websocket.StatusInvalidFramePayloadData},
			{"wrong type", websocket.MessageText, []byte(`{"type":"location","lat":"north"}`), websocket.StatusInvalidFramePayloadData},
			{"two objects", websocket.MessageText, []byte(`{"type":"location"} {"type":"location"}`), websocket.StatusInvalidFramePayloadData},
			{"binary", websocket.MessageBinary, []byte{1, 2, 3}, websocket.StatusUnsupportedData},
			{"too big", websocket.MessageText, []byte(`{"type":"location","pad":"` + strings.Repeat("x", rides.MaxFrame) + `"}`), websocket.StatusMessageTooBig},
		} {
			d := e.connect("bad-" + strings.ReplaceAll(c.name, " ", "-"))
			d.sendRaw(c.typ, c.data)
			if got := d.closed(); got != c.want {
				t.Errorf("%s: close status %v; want %v", c.name, got, c.want)
			}
		}
		// A second connection of a driver closes the first with 1008.
		a := e.connect("twice")
		a.ping(pickLat, pickLng+0.02)
		b := e.connect("twice")
		if got := a.closed(); got != websocket.StatusPolicyViolation {
			t.Errorf("replaced connection: close status %v; want %v", got, websocket.StatusPolicyViolation)
		}
		b.ping(pickLat, pickLng+0.02)
	})

	t.Run("LocationHistory", func(t *testing.T) {
		// Pings reach the location history through the event bus.
		d := drivers[7]
		d.ping(pickLat+0.001, pickLng+0.001)
		var out struct {
			Pings []struct{ Lat, Lng float64 }
		}
		e.eventually("pings of d07 in the history", func() bool {
			e.do("GET", "/v1/drivers/d07/locations", "").json(t, &out)
			return len(out.Pings) >= 2
		})
		if p := out.Pings[0]; math.Abs(p.Lat-(pickLat+0.001)) > 1e-9 || math.Abs(p.Lng-(pickLng+0.001)) > 1e-9 {
			t.Errorf("latest ping: got %+v; want the last one sent", p)
		}
	})

	t.Run("Map", func(t *testing.T) {
		var m struct {
			Drivers []struct {
				ID   string
				Busy bool
			}
			Cells []struct {
				Token    string
				Count    int
				Vertices [][2]float64
			}
		}
		e.do("GET", fmt.Sprintf("/v1/map?lat=%v&lng=%v&radius=3000", pickLat, pickLng), "").json(t, &m)
		seen := map[string]bool{}
		for _, d := range m.Drivers {
			seen[d.ID] = true
		}
		for _, d := range drivers {
			if !seen[d.id] {
				t.Errorf("map: driver %s missing", d.id)
			}
		}
		total := 0
		for _, c := range m.Cells {
			total += c.Count
			if len(c.Vertices) != 4 {
				t.Errorf("cell %s: %d vertices; want 4", c.Token, len(c.Vertices))
			}
		}
		// 20 drivers within 600 m and at most 8 per cell: the grid split.
		if len(m.Cells) < 3 || total < nDrivers {
			t.Errorf("map: %d cells holding %d drivers; want at least 3 cells and %d drivers", len(m.Cells), total, nDrivers)
		}
		if r := e.do("GET", "/map", ""); r.status != 200 || !strings.Contains(string(r.body), "<svg") {
			t.Errorf("map page: got %d", r.status)
		}
	})

	t.Run("Ops", func(t *testing.T) {
		r := e.do("GET", "/metrics", "")
		for _, m := range []string{"rides_pings ", "rides_accepts_won ", "rides_events_published ", `http_requests_total{code="202",route="POST /v1/trips"}`} {
			if !strings.Contains(string(r.body), m) {
				t.Errorf("/metrics: no %s", m)
			}
		}
		st := e.svc.Stats()
		if st["accepts_won"] < 3 || st["trips_completed"] != 1 || st["frames_malformed"] != 5 {
			t.Errorf("stats: got %v", st)
		}
	})

	t.Run("Archive", func(t *testing.T) {
		// After ArchiveAge the archiver moves ended trips out of the
		// current store; the history still lists them.
		e.clock.Advance(rides.DefaultArchiveAge + time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		n, err := e.svc.Archive(ctx)
		if err != nil || n < 5 {
			t.Fatalf("Archive: got %d, %v; want at least 5 trips", n, err)
		}
		e.want(e.do("GET", "/v1/trips/"+tripID, ""), 404, "not_found", "archived trip")
		var h struct{ Trips []tripJSON }
		e.do("GET", "/v1/riders/r1/trips", "").json(t, &h)
		if len(h.Trips) != 1 || h.Trips[0].ID != tripID {
			t.Errorf("history after archiving: got %+v", h.Trips)
		}
	})

	t.Run("Shutdown", func(t *testing.T) {
		// Stopping Run closes every driver socket with 1001.
		e.stop()
		if got := drivers[0].closed(); got != websocket.StatusGoingAway {
			t.Errorf("close status at shutdown: got %v; want %v", got, websocket.StatusGoingAway)
		}
		e.want(e.do("POST", "/v1/trips", fmt.Sprintf(`{"rider":"r10","lat":%v,"lng":%v,"dest_lat":%v,"dest_lng":%v}`,
			pickLat, pickLng, dropLat, dropLng)), 503, "unavailable", "booking after shutdown")
		e.want(e.do("GET", "/healthz", ""), 503, "", "healthz after shutdown")
	})
}

// TestSurge: demand above supply in the pickup cell raises the price.
func TestSurge(t *testing.T) {
	e := start(t, memoryStack, rides.Config{})
	d := e.connect("lonely")
	d.ping(pickLat, pickLng)
	estimate := func() (surge, fare float64) {
		var q struct{ Surge, Fare float64 }
		e.do("GET", fmt.Sprintf("/v1/estimate?lat=%v&lng=%v&dest_lat=%v&dest_lng=%v", pickLat, pickLng, dropLat, dropLng), "").json(t, &q)
		return q.Surge, q.Fare
	}
	s0, f0 := estimate()
	for i := range 3 {
		tr := e.book(fmt.Sprintf("sr%d", i), false)
		d.offer(tr.ID)
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", fmt.Sprintf(`{"rider":"sr%d"}`, i)), 200, "", "cancel")
	}
	s1, f1 := estimate()
	// 3 requests for 1 driver: ratio 3, surge 2.0.
	if s0 != 1 || s1 != 2 || math.Abs(f1-2*f0) > 0.02 {
		t.Errorf("surge: got %v (fare %v) before and %v (fare %v) after; want 1 and 2, fare doubled", s0, f0, s1, f1)
	}
}

// TestRecoverLostDispatch: a trip left looking for a driver by a process
// that died is cancelled by the archiver.
func TestRecoverLostDispatch(t *testing.T) {
	e := start(t, memoryStack, rides.Config{})
	ctx := context.Background()
	old := e.clock.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if err := e.stack.Trips.Create(ctx, rides.Trip{ID: "t_lost", Rider: "lr", State: rides.Offered, PickupLat: 1, PickupLng: 2, Created: old, Updated: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Archive(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.trip("t_lost")
	if got.State != "cancelled" || got.Reason != rides.ReasonLost {
		t.Fatalf("lost trip: got %+v; want cancelled, %s", got, rides.ReasonLost)
	}
	// And the rider may book again.
	e.want(e.do("POST", "/v1/trips", `{"rider":"lr","lat":1,"lng":2,"dest_lat":1.01,"dest_lng":2.01}`), 202, "", "book after recovery")
}

func TestConfigErrors(t *testing.T) {
	st := memoryStack(t, backends.Settings{})
	for _, c := range []struct {
		name string
		mod  func(*rides.Config)
	}{
		{"no index", func(c *rides.Config) { c.Index = nil }},
		{"no trips", func(c *rides.Config) { c.Trips = nil }},
		{"no events", func(c *rides.Config) { c.Events = nil }},
		{"negative archive age", func(c *rides.Config) { c.ArchiveAge = -1 }},
		{"negative archive interval", func(c *rides.Config) { c.ArchiveInterval = -1 }},
		{"no archive", func(c *rides.Config) { c.Archive = nil }},
		{"bad map centre", func(c *rides.Config) { c.MapLat = 95 }},
		{"negative K", func(c *rides.Config) { c.Dispatch.K = -1 }},
		{"negative TTL", func(c *rides.Config) { c.TTL = -time.Second }},
	} {
		var cfg rides.Config
		st.Apply(&cfg)
		c.mod(&cfg)
		if _, err := rides.New(cfg); err == nil {
			t.Errorf("%s: New succeeded; want an error", c.name)
		}
	}
}

func TestRunTwice(t *testing.T) {
	e := start(t, memoryStack, rides.Config{})
	if err := e.svc.Run(context.Background()); !errors.Is(err, rides.ErrRunning) {
		t.Fatalf("second Run: got %v; want ErrRunning", err)
	}
}

func TestPricing(t *testing.T) {
	p := rides.Pricing{} // defaults: MaxSurge 3
	for _, c := range []struct {
		supply, demand int
		want           float64
	}{{0, 0, 1}, {5, 5, 1}, {2, 3, 1.3}, {2, 4, 1.5}, {1, 3, 2}, {0, 5, 3}, {1, 50, 3}} {
		if got := p.Surge(geogrid.Counts{Supply: c.supply, Demand: c.demand}); got != c.want {
			t.Errorf("Surge(supply %d, demand %d): got %v; want %v", c.supply, c.demand, got, c.want)
		}
	}
	// Defaults: 50 + 12/km * road km + 2/min, at least 80, times surge.
	if got := p.Fare(10000, 20*time.Minute, 1.5); got != (50+12*13+40)*1.5 {
		t.Errorf("Fare(10 km, 20 min, 1.5): got %v; want %v", got, (50+12*13+40)*1.5)
	}
	if got := p.Fare(100, time.Minute, 2); got != 160 {
		t.Errorf("Fare of a short trip: got %v; want the minimum 80 times 2", got)
	}
}

// TestFraudFlag: a driver who keeps accepting rides booked from where his
// own phone is (the rider's pickup is the driver's position) is flagged on
// the third such assignment.
func TestFraudFlag(t *testing.T) {
	e := start(t, memoryStack, rides.Config{})
	d := e.connect("crook")
	d.ping(pickLat, pickLng)
	for i := range 3 {
		tr := e.book("accomplice", false)
		d.offer(tr.ID)
		if r := d.request(map[string]any{"type": "accept", "trip": tr.ID}); r.Type != "accepted" {
			t.Fatalf("accept %d: got %+v", i, r)
		}
		if got := e.svc.Stats()["fraud_flagged"]; got != float64(max(0, i-1)) {
			t.Errorf("after %d co-located assignments: fraud_flagged %v; want %v", i+1, got, max(0, i-1))
		}
		e.want(e.do("POST", "/v1/trips/"+tr.ID+"/cancel", `{"rider":"accomplice"}`), 200, "", "cancel")
	}
	if got := e.svc.Stats()["fraud_flagged"]; got != 1 {
		t.Errorf("fraud_flagged: got %v; want 1", got)
	}
}
