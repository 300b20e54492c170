package cqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/cqlstore"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	"github.com/sysblocks/sysblocks/reservation/memstore"
)

// Old bookings move to Cassandra, and a guest's history reads both stores.
// It needs a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	cluster := gocql.NewCluster(strings.Split(os.Getenv("SYSBLOCKS_CASSANDRA_HOSTS"), ",")...)
	cluster.Keyspace = "bookings" // an existing keyspace
	session, err := cluster.CreateSession()
	if err != nil {
		panic(err)
	}
	defer session.Close()
	cold, err := cqlstore.New(session, nil)
	if err != nil {
		panic(err)
	}
	if err := cold.CreateSchema(ctx); err != nil {
		panic(err)
	}

	svc, _ := reservation.New(memstore.New(), nil) // reservation/sqlstore in production
	live := archivesource.New(svc)
	arch, err := archive.New(live, cold, nil) // bookings ended 30 days ago, every hour
	if err != nil {
		panic(err)
	}
	go func() { _ = arch.Run(ctx) }()

	page, next, err := archive.Merge(ctx, "ann", archive.Cursor{}, 20, live, cold)
	fmt.Println(len(page), next, err)
}
