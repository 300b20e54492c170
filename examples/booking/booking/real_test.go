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
func realStack(t *testing.T, db **testenv.MySQLEnv, r *testenv.RedisEnv) stackFunc {
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
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
	newStack := realStack(t, &m, r)
	suite(t, newStack)

	t.Run("Servers", func(t *testing.T) {
		e := start(t, newStack)
		h := e.hotel("Airport Inn", "Paris")
		e.room(h.ID, "r1", 2, 80)
		status, b, eb := e.book("k1", "alice", "r1", 1, 1, 2)
		if status != http.StatusCreated {
			t.Fatalf("book: %d %+v", status, eb)
		}
		e.must(http.StatusOK, "GET", "/hotels/"+h.ID+"/bookings", nil, nil)
		e.eventually("search fed through Kafka", func() bool { return len(e.search("q=airprot").Hits) == 1 })

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
		searches, err := r.Client.Keys(ctx, r.Prefix+"*search:*").Result()
		if err != nil || len(searches) == 0 {
			t.Errorf("Redis search cache keys: %v, %v; want some", searches, err)
		}
	})
}
