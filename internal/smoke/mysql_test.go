package smoke

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestMySQLSelectForUpdate checks that SELECT ... FOR UPDATE really locks a
// row: 20 goroutines each increment a counter 10 times in transactions and
// none of the 200 increments is lost, and a second transaction that wants the
// locked row waits and then times out with error 1205.
func TestMySQLSelectForUpdate(t *testing.T) {
	m := testenv.MySQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := m.DB
	db.SetMaxOpenConns(32)
	if _, err := db.ExecContext(ctx, `CREATE TABLE counter (name VARCHAR(32) PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB;
		INSERT INTO counter VALUES ('c', 0)`); err != nil {
		t.Fatal(err)
	}
	incr := func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT n FROM counter WHERE name='c' FOR UPDATE`).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE counter SET n=? WHERE name='c'`, n+1); err != nil {
			return err
		}
		return tx.Commit()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := incr(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("increment: %v", err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT n FROM counter WHERE name='c'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 200 {
		t.Fatalf("counter = %d after 200 locked increments; want 200", n)
	}

	// A held lock makes another locking read wait, then fail with 1205.
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.ExecContext(ctx, `SELECT n FROM counter WHERE name='c' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET SESSION innodb_lock_wait_timeout = 1`); err != nil {
		t.Fatal(err)
	}
	waiter, err := conn.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Rollback()
	_, err = waiter.ExecContext(ctx, `SELECT n FROM counter WHERE name='c' FOR UPDATE`)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1205 {
		t.Fatalf("locking read of a locked row: err = %v; want MySQL error 1205 (lock wait timeout)", err)
	}
}
