package cqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/examples/rides/rides/cqlstore"
	"github.com/sysblocks/sysblocks/examples/rides/rides/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// One keyspace for the whole test: each subtest starts with a truncate of
// the table.
func newStore(t *testing.T) *cqlstore.Store {
	env := testenv.Cassandra(t)
	s := cqlstore.New(env.Session, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for range 2 { // CreateSchema is idempotent
		if err := s.CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func truncate(t *testing.T, s *cqlstore.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Truncate(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLocations(t *testing.T) {
	s := newStore(t)
	storetest.RunLocations(t, func(t *testing.T) rides.Locations { truncate(t, s); return s.Locations() })
}

// A LocationTTL puts a TTL on every ping row.
func TestLocationTTL(t *testing.T) {
	env := testenv.Cassandra(t)
	s := cqlstore.New(env.Session, &cqlstore.Options{LocationTTL: 90 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.Locations().Append(ctx, rides.Ping{Driver: "d1", Lat: 1, Lng: 2, At: at}); err != nil {
		t.Fatal(err)
	}
	var ttl int
	if err := env.Session.Query(`SELECT TTL(lat) FROM driver_locations WHERE driver = ? AND day = ? AND at = ?`,
		"d1", at.Truncate(24*time.Hour), at).ScanContext(ctx, &ttl); err != nil {
		t.Fatal(err)
	}
	if ttl < 5300 || ttl > 5400 {
		t.Errorf("TTL(lat): got %d; want about 5400", ttl)
	}
}
