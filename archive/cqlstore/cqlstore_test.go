package cqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/cqlstore"
	"github.com/sysblocks/sysblocks/archive/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func newStore(t *testing.T, opts *cqlstore.Options) *cqlstore.Store {
	env := testenv.Cassandra(t)
	s, err := cqlstore.New(env.Session, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for range 2 { // CreateSchema is idempotent
		if err := s.CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	s := newStore(t, nil)
	storetest.Run(t, storetest.Config{Open: func(testing.TB) archive.Store { return s }})
}

// A second table in the same keyspace keeps its records apart.
func TestTable(t *testing.T) {
	env := testenv.Cassandra(t)
	ctx := context.Background()
	a, err := cqlstore.New(env.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cqlstore.New(env.Session, &cqlstore.Options{Table: "trips_archive"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Schema(), "CREATE TABLE IF NOT EXISTS trips_archive") {
		t.Fatalf("Schema = %s; want the table trips_archive", b.Schema())
	}
	for _, s := range []*cqlstore.Store{a, b} {
		if err := s.CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs := storetest.Records("o", 3)
	if err := b.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got, err := a.List(ctx, "o", archive.Cursor{}, 10); err != nil || len(got) != 0 {
		t.Fatalf("default table lists %d records, %v; want none", len(got), err)
	}
	if got, err := b.List(ctx, "o", archive.Cursor{}, 10); err != nil || !storetest.Equal(got, storetest.Sorted(recs)) {
		t.Fatalf("trips_archive lists %d records, %v; want 3", len(got), err)
	}
	for _, bad := range []string{"x;DROP", "1abc", strings.Repeat("a", 49)} {
		if _, err := cqlstore.New(env.Session, &cqlstore.Options{Table: bad}); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("New(table %q) err = %v; want ErrInvalid", bad, err)
		}
	}
	far := archive.Record{Owner: "o", ID: "far", At: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := b.Put(ctx, []archive.Record{far}); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("Put(year 2300) err = %v; want ErrInvalid", err)
	}
}
