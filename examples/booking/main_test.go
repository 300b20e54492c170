package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/proctest"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var client = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request and decodes the JSON answer into out.
func call(t *testing.T, p *proctest.Process, method, path, body string, out any, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.Addr+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

func eventually(t *testing.T, p *proctest.Process, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 2 minutes\n%s", what, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func day(n int) string { return reservation.DateFromTime(time.Now().UTC()).AddDays(n).String() }

type hit struct {
	Hits []struct{ ID string } `json:"hits"`
}

// onboard creates a hotel with a room and waits until search finds it;
// it returns the hotel ID.
func onboard(t *testing.T, p *proctest.Process) string {
	t.Helper()
	if status := call(t, p, "GET", "/healthz", "", nil); status != http.StatusOK {
		t.Fatalf("healthz: %d\n%s", status, p.Log())
	}
	var h struct{ ID string }
	if status := call(t, p, "POST", "/hotels", `{"name":"Airport Inn","locality":{"city":"Paris","country":"FR"}}`, &h); status != http.StatusCreated {
		t.Fatalf("POST /hotels: %d", status)
	}
	if status := call(t, p, "PUT", "/hotels/"+h.ID+"/rooms/"+h.ID+"-dbl", `{"name":"Double","quantity":2,"price_min":80,"price_max":120}`, nil); status != http.StatusOK {
		t.Fatalf("PUT room: %d", status)
	}
	eventually(t, p, "search finds the hotel", func() bool {
		var r hit
		call(t, p, "GET", "/search?q=airprot", "", &r)
		return len(r.Hits) == 1 && r.Hits[0].ID == h.ID
	})
	return h.ID
}

type bookingView struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	InvoiceID string `json:"invoice_id"`
}

func hold(t *testing.T, p *proctest.Process, hotel, key string) bookingView {
	t.Helper()
	var b bookingView
	body := `{"user":"alice","room":"` + hotel + `-dbl","quantity":1,"check_in":"` + day(1) + `","check_out":"` + day(3) + `"}`
	if status := call(t, p, "POST", "/bookings", body, &b, "Idempotency-Key", key); status != http.StatusCreated || b.State != "reserved" {
		t.Fatalf("POST /bookings: %d %+v\n%s", status, b, p.Log())
	}
	return b
}

func pay(t *testing.T, p *proctest.Process, id string) bookingView {
	t.Helper()
	var b bookingView
	if status := call(t, p, "POST", "/bookings/"+id+"/payment", `{"status":"success","payment_id":"ch_`+id+`"}`, &b); status != http.StatusOK || b.State != "booked" {
		t.Fatalf("payment: %d %+v\n%s", status, b, p.Log())
	}
	return b
}

// TestBinaryMemory builds the command, runs it with no servers, uses it
// over HTTP and stops it with SIGTERM.
func TestBinaryMemory(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, "booking"))
	hotel := onboard(t, p)
	b := hold(t, p, hotel, "k1")
	pay(t, p, b.ID)
	var hist struct{ Bookings []bookingView }
	if status := call(t, p, "GET", "/users/alice/bookings", "", &hist); status != http.StatusOK || len(hist.Bookings) != 1 {
		t.Fatalf("history: %d %+v", status, hist)
	}
	var view struct {
		Rooms []struct{ Bookings []bookingView }
	}
	if status := call(t, p, "GET", "/hotels/"+hotel+"/bookings", "", &view); status != http.StatusOK ||
		len(view.Rooms) != 1 || len(view.Rooms[0].Bookings) != 1 || view.Rooms[0].Bookings[0].ID != b.ID || view.Rooms[0].Bookings[0].State != "booked" {
		t.Fatalf("view: %d %+v; want the paid booking listed", status, view)
	}
	p.Stop(t)
}

// TestBinaryRealCrash runs the command with -backend=real on the test
// servers, holds a room, kills the process with SIGKILL, and checks that a
// restarted process still has everything: the hotel (MariaDB), a search
// index rebuilt from the database, and the hold, which the payment then
// books. Then it stops cleanly on SIGTERM.
func TestBinaryRealCrash(t *testing.T) {
	t.Cleanup(func() {
		if tr, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
			tr.CloseIdleConnections()
		}
	})
	my := testenv.MySQL(t)
	rd := testenv.Redis(t)
	cs := testenv.Cassandra(t)
	kf := testenv.Kafka(t)
	bin := proctest.Build(t, "booking")
	args := func(searchGroup string) []string {
		return []string{"-backend", "real", "-mysql-dsn", my.DSN,
			"-redis-addr", rd.Addr, "-redis-prefix", rd.Key("booking") + ":",
			"-cassandra-hosts", strings.Join(cs.Hosts, ","), "-cassandra-keyspace", cs.Keyspace,
			"-kafka-brokers", strings.Join(kf.Brokers, ","),
			"-hotel-topic", kf.Topic(3), "-booking-topic", kf.Topic(3),
			"-search-group", searchGroup, "-view-group", testenv.Name(t, "views")}
	}
	p := proctest.Start(t, bin, args(testenv.Name(t, "search"))...)
	hotel := onboard(t, p)
	b := hold(t, p, hotel, "crash-key")
	p.Kill(t)

	// New topics: the restarted index cannot learn the hotel from events,
	// only from the rebuild from MariaDB.
	p = proctest.Start(t, bin, args(testenv.Name(t, "search"))...)
	var r hit
	if status := call(t, p, "GET", "/search?q=airport", "", &r); status != http.StatusOK || len(r.Hits) != 1 || r.Hits[0].ID != hotel {
		t.Errorf("search after restart: %d %+v; want the hotel, rebuilt from MariaDB", status, r)
	}
	if again := hold(t, p, hotel, "crash-key"); again.ID != b.ID {
		t.Errorf("idempotent retry after the crash: booking %s; want %s", again.ID, b.ID)
	}
	if paid := pay(t, p, b.ID); paid.InvoiceID == "" {
		t.Errorf("payment after the crash: %+v; want an invoice", paid)
	}
	p.Stop(t)
}
