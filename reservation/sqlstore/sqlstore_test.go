package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
	"github.com/sysblocks/sysblocks/reservation/storetest"
)

// setup creates the schema in a fresh database and returns a function that
// opens a new handle (its own connection pool) on it.
func setup(t testing.TB) (*testenv.MySQLEnv, func(tb testing.TB) reservation.Store) {
	env := testenv.MySQL(t)
	if err := sqlstore.New(env.DB, nil).CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	open := func(tb testing.TB) reservation.Store {
		db, err := sql.Open("mysql", env.DSN)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		return sqlstore.New(db, nil)
	}
	return env, open
}

func TestConformance(t *testing.T) {
	_, open := setup(t)
	storetest.Run(t, storetest.Config{Open: open})
}
