package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/sqlstore"
)

// This example needs a MySQL or MariaDB server at SYSBLOCKS_MYSQL_DSN, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv("SYSBLOCKS_MYSQL_DSN"))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	store := sqlstore.New(db, nil)
	if err := store.CreateSchema(ctx); err != nil {
		panic(err)
	}
	alloc, err := tokenrange.NewAllocator(store, nil)
	if err != nil {
		panic(err)
	}
	leaser, err := tokenrange.NewLeaser(alloc, "links", nil)
	if err != nil {
		panic(err)
	}
	defer leaser.Close()
	token, err := leaser.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(token)
}
