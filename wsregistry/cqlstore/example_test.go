package cqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// One Store is both the offline inbox of the Router and the last-seen
// store of the Registry.
// It needs Cassandra at SYSBLOCKS_CASSANDRA_HOSTS, so go test only compiles it.
func Example() {
	ctx := context.Background()
	cluster := gocql.NewCluster(strings.Split(os.Getenv("SYSBLOCKS_CASSANDRA_HOSTS"), ",")...)
	cluster.Keyspace = "chat"
	session, err := cluster.CreateSession()
	if err != nil {
		panic(err)
	}
	defer session.Close()

	st, err := cqlstore.New(session, nil)
	if err != nil {
		panic(err)
	}
	if err := st.CreateSchema(ctx); err != nil {
		panic(err)
	}
	// The registry and sequencer are redisstore, the transport redisbus, in production.
	reg, _ := wsregistry.New(memstore.New(), &wsregistry.Options{
		LastSeen: st,
		OnSeen:   func(user string, at time.Time) { _ = st.SetLastSeen(ctx, user, at) },
	})
	router, err := wsregistry.NewRouter(reg, st, memstore.NewSequencer(), memstore.NewTransport(), nil)
	if err != nil {
		panic(err)
	}

	// bob is offline: the message waits in his inbox.
	if _, err := router.Send(ctx, wsregistry.Message{Conv: "alice|bob", From: "alice", To: "bob", Body: []byte("hi")}); err != nil {
		panic(err)
	}
	missed, _ := router.Resync(ctx, "bob", nil, 0)
	fmt.Println(len(missed))
}
