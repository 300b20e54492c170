package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
)

// The reservation block on MariaDB. It needs a server, so it is compiled
// but not run by go test.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv("SYSBLOCKS_MYSQL_DSN")) // e.g. user:pw@tcp(host:3306)/db?interpolateParams=true
	if err != nil {
		panic(err)
	}
	defer db.Close()
	store := sqlstore.New(db, &sqlstore.Options{LockTimeout: 5 * time.Second})
	if err := store.CreateSchema(ctx); err != nil {
		panic(err)
	}
	svc, err := reservation.New(store, nil)
	if err != nil {
		panic(err)
	}
	go func() { _ = svc.Run(ctx) }() // the sweeper: expired holds, completed stays, old keys

	in := reservation.DateOf(2031, time.March, 14)
	_ = svc.SetInventory(ctx, "suite", in, in+7, 3)
	b, err := svc.Hold(ctx, reservation.HoldRequest{Key: "ann-1", User: "ann", Room: "suite",
		Quantity: 1, CheckIn: in, CheckOut: in + 2})
	fmt.Println(b.State, err)
}
