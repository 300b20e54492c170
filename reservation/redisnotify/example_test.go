package redisnotify_test

import (
	"context"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/redisnotify"
)

// The Notifier arms a key per hold and wakes the sweeper when it expires.
// It needs a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer rdb.Close()

	n := redisnotify.New(rdb, nil)
	if err := n.Enable(ctx); err != nil { // notify-keyspace-events gains E and x
		panic(err)
	}
	svc, err := reservation.New(memstore.New(), &reservation.Options{Alarm: n}) // reservation/sqlstore in production
	if err != nil {
		panic(err)
	}
	go func() { _ = svc.Run(ctx) }()
	go func() { _ = n.Run(ctx, svc.Wake) }()
}
