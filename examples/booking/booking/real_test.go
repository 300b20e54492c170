package booking_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// realStack returns a stackFunc on the real servers: a fresh MariaDB
// database, Kafka topics and consumer groups, and a Redis prefix per test.
// The last database is left in *db.
func realStack(t *testing.T, db **testenv.MySQLEnv, r *testenv.RedisEnv, c *testenv.CassandraEnv) stackFunc {
	k := testenv.Kafka(t)
	return func(t *testing.T, s backends.Settings) *backends.Stack {
		m := testenv.MySQL(t)
		*db = m
		s.HotelTopic, s.BookingTopic = k.Topic(3), k.Topic(3)
		s.SearchGroup, s.ViewGroup = testenv.Name(t, "search"), testenv.Name(t, "views")
		s.RedisPrefix = r.Key(testenv.Name(t, "b") + ":")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := backends.Real(ctx, backends.Clients{Redis: r.Client, MySQL: m.DB, Cassandra: c.Session, Brokers: k.Brokers}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
}

// TestFlowReal runs the end-to-end suite on the real setup: hotels and
// availability in MariaDB, the view cache, hot searches and hold alarms in
// Redis, hotel and booking events through Kafka, Cassandra for the
// history. Then it reads the servers directly to check that the data went
// where the design says.
func TestFlowReal(t *testing.T) {
	r := testenv.Redis(t)
	var m *testenv.MySQLEnv
	c := testenv.Cassandra(t)
	newStack := realStack(t, &m, r, c)
	suite(t, newStack)

	t.Run("Servers", func(t *testing.T) {
		e := start(t, newStack, func(c *booking.Config) { c.QueryCacheTTL = time.Minute })
		h := e.hotel("Airport Inn", "Paris")
		e.room(h.ID, "r1", 2, 80)
		status, b, eb := e.book("k1", "alice", "r1", 1, 1, 2)
		if status != http.StatusCreated {
			t.Fatalf("book: %d %+v", status, eb)
		}
		e.must(http.StatusOK, "GET", "/hotels/"+h.ID+"/bookings", nil, nil)
		e.eventually("search fed through Kafka", func() bool { return e.svc.Index().Version(h.ID) == 2 })
		if r := e.search("q=airprot"); len(r.Hits) != 1 {
			t.Errorf("airprot: %+v; want the Airport Inn", r)
		}

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, q := range []struct {
			sql  string
			want int
		}{
			{`SELECT COUNT(*) FROM booking_hotel`, 1}, {`SELECT COUNT(*) FROM booking_rooms`, 1},
			{`SELECT COUNT(*) FROM booking_locality`, 1}, {`SELECT COUNT(*) FROM booking_facilities`, 1},
			{`SELECT COUNT(*) FROM booking_hotel_facilities WHERE is_active`, 1},
			{`SELECT COUNT(*) FROM reservation_booking WHERE state = 'reserved'`, 1},
			{`SELECT COUNT(*) FROM reservation_inventory WHERE room_id = 'r1'`, booking.DefaultInventoryDays},
		} {
			var n int
			if err := m.DB.QueryRowContext(ctx, q.sql).Scan(&n); err != nil || n != q.want {
				t.Errorf("%s: %d, %v; want %d", q.sql, n, err, q.want)
			}
		}
		views, err := r.Client.Keys(ctx, r.Prefix+"*view:"+h.ID+":*").Result()
		if err != nil || len(views) != 1 {
			t.Errorf("Redis view keys of %s: %v, %v; want one", h.ID, views, err)
		}
		holds, err := r.Client.Keys(ctx, r.Prefix+"*hold:"+b.ID).Result()
		if err != nil || len(holds) != 1 {
			t.Errorf("Redis hold alarm keys: %v, %v; want one", holds, err)
		}
		// A finished booking moves to Cassandra, partitioned by user.
		_, fin, _ := e.book("k2", "carol", "r1", 1, 3, 4)
		e.must(http.StatusOK, "POST", "/bookings/"+fin.ID+"/payment", booking.Payment{Status: "failure"}, nil)
		e.clock.Advance(31 * 24 * time.Hour)
		if n, err := e.svc.Archive(ctx); err != nil || n < 1 {
			t.Errorf("Archive: %d, %v; want at least carol's booking", n, err)
		}
		var rows int
		if err := c.Session.Query(`SELECT count(*) FROM booking_history WHERE owner = ?`, "carol").ScanContext(ctx, &rows); err != nil || rows != 1 {
			t.Errorf("Cassandra booking_history of carol: %d, %v; want 1", rows, err)
		}
		var hist booking.History
		e.must(http.StatusOK, "GET", "/users/carol/bookings", nil, &hist)
		if len(hist.Bookings) != 1 || hist.Bookings[0].ID != fin.ID {
			t.Errorf("carol's history: %+v; want the archived booking", hist)
		}
		searches, err := r.Client.Keys(ctx, r.Prefix+"*search:*").Result()
		if err != nil || len(searches) == 0 {
			t.Errorf("Redis search cache keys: %v, %v; want some", searches, err)
		}
	})
}
