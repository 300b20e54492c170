package rides_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// realSetup returns a stackFunc of the real setup on fresh names (a
// MariaDB database, a Cassandra keyspace, Kafka topics and a Redis prefix
// of this test), and the MariaDB and Cassandra environments, to read the
// servers directly.
func realSetup(t *testing.T) (stackFunc, *testenv.RedisEnv, *testenv.MySQLEnv, *testenv.CassandraEnv) {
	r := testenv.Redis(t)
	m := testenv.MySQL(t)
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	return func(t *testing.T, s backends.Settings) *backends.Stack {
		s.LocationTopic, s.TripTopic = k.Topic(3), k.Topic(3)
		s.Group = testenv.Name(t, "rides")
		s.RedisPrefix = r.Key("grid")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := backends.Real(ctx, backends.Clients{Redis: r.Client, MySQL: m.DB, Cassandra: c.Session, Brokers: k.Brokers}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}, r, m, c
}

// TestFlowReal runs the end-to-end suite on the real setup: positions and
// claims in Redis, current trips in MariaDB, archived trips and location
// history in Cassandra, pings and trip events through Kafka. Then it reads
// the servers directly to check that the data went where the design says.
func TestFlowReal(t *testing.T) {
	real, r, m, c := realSetup(t)
	flowSuite(t, real)
	if t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Redis: the grid's position hash holds the drivers still connected
	// (none: shutdown took them off), and claims were made under the prefix.
	var rides int
	if err := c.Session.Query(`SELECT count(*) FROM `+backends.ArchiveTable+` WHERE owner = ?`, "r1").ScanContext(ctx, &rides); err != nil || rides != 1 {
		t.Errorf("Cassandra %s of r1: got %d, %v; want 1", backends.ArchiveTable, rides, err)
	}
	var pings int
	if err := c.Session.Query(`SELECT count(*) FROM driver_locations WHERE driver = ? AND day = ?`,
		"d07", time.Now().UTC().Truncate(24*time.Hour)).ScanContext(ctx, &pings); err != nil || pings < 2 {
		t.Errorf("Cassandra driver_locations of d07: got %d, %v; want at least 2", pings, err)
	}
	// MariaDB: the archive removed the ended trips; what is left never ended.
	var ended int
	if err := m.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM rides_trips WHERE state IN ('completed', 'cancelled') AND ended_ms < ?`,
		time.Now().Add(-time.Minute).UnixMilli()).Scan(&ended); err != nil || ended != 0 {
		t.Errorf("MariaDB rides_trips: %d ended trips older than a minute left, %v; want 0", ended, err)
	}
	var total int
	if err := m.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM rides_trips`).Scan(&total); err != nil {
		t.Error(err)
	}
	keys, err := r.Client.Keys(ctx, r.Prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("Redis keys under %s: got %d, %v; want the grid's keys", r.Prefix, len(keys), err)
	}
	t.Logf("MariaDB rows left: %d; Redis keys: %d; Cassandra pings of d07: %d", total, len(keys), pings)
}
