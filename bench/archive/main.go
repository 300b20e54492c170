// Command archive measures the archive block moving finished bookings
// from MariaDB to Cassandra, and the merged history read.
//
// Records moved per second, each run on its own database holding the same
// bookings (-records Cancelled ones, 50 users) and its own Cassandra
// table:
//
//   - batched: archive.Archiver with Batch -batch (one SELECT, the INSERTs
//     16 at a time, one DELETE transaction per batch).
//   - one by one (baseline): the same Archiver with Batch 1 and one INSERT
//     in flight: the cron job that copies and deletes a row at a time.
//
// History page reads per second (20 bookings newest first, one user,
// sequential): archive.Merge over the live bookings (MariaDB) and the
// archived ones (Cassandra), against the live page alone
// (reservation.Service.UserBookings on MariaDB) as the baseline.
//
// It reads SYSBLOCKS_MYSQL_DSN and SYSBLOCKS_CASSANDRA_HOSTS, creates two
// databases sdk_bench_archive_<random>_{a,b} and a keyspace
// sbt_bench_archive_<random>, and drops them at the end.
//
//	go run ./archive
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/cqlstore"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
)

var (
	records = flag.Int("records", 5000, "cancelled bookings to move in each run")
	batch   = flag.Int("batch", 500, "archive.Options.Batch of the batched run")
	reads   = flag.Int("reads", 500, "history pages read per reader")
	users   = 50
)

var (
	created = time.Date(2031, time.January, 1, 9, 0, 0, 0, time.UTC)
	runAt   = created.Add(60 * 24 * time.Hour)
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func env(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("set %s", name)
	}
	return v, nil
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run() error {
	ctx := context.Background()
	dsn, err := env("SYSBLOCKS_MYSQL_DSN")
	if err != nil {
		return err
	}
	hosts, err := env("SYSBLOCKS_CASSANDRA_HOSTS")
	if err != nil {
		return err
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	cfg.ParseTime, cfg.InterpolateParams = true, true
	admin := cfg.Clone()
	admin.DBName = ""
	root, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		return err
	}
	defer root.Close()
	tag := suffix()

	cluster := gocql.NewCluster(strings.Split(hosts, ",")...)
	cluster.Consistency = gocql.One
	cluster.Timeout = 20 * time.Second
	adminSess, err := cluster.CreateSession()
	if err != nil {
		return err
	}
	defer adminSess.Close()
	ks := "sbt_bench_archive_" + tag
	if err := adminSess.Query(`CREATE KEYSPACE ` + ks + ` WITH replication = {'class':'SimpleStrategy','replication_factor':1}`).ExecContext(ctx); err != nil {
		return err
	}
	defer func() { _ = adminSess.Query(`DROP KEYSPACE IF EXISTS ` + ks).ExecContext(context.Background()) }()
	cluster.Keyspace = ks
	sess, err := cluster.CreateSession()
	if err != nil {
		return err
	}
	defer sess.Close()

	open := func(name string) (*sql.DB, error) {
		db := "sdk_bench_archive_" + tag + "_" + name
		if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+db+"`"); err != nil {
			return nil, err
		}
		c := cfg.Clone()
		c.DBName = db
		return sql.Open("mysql", c.FormatDSN())
	}
	defer func() {
		for _, n := range []string{"a", "b"} {
			_, _ = root.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `sdk_bench_archive_"+tag+"_"+n+"`")
		}
	}()

	type side struct {
		name  string
		batch int
		par   int
		svc   *reservation.Service
		cold  *cqlstore.Store
		db    *sql.DB
	}
	sides := []*side{{name: "batched", batch: *batch, par: 0}, {name: "one by one", batch: 1, par: 1}}
	for i, s := range sides {
		db, err := open(string(rune('a' + i)))
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		s.db = db
		store := sqlstore.New(db, nil)
		if err := store.CreateSchema(ctx); err != nil {
			return err
		}
		s.cold, err = cqlstore.New(sess, &cqlstore.Options{Table: fmt.Sprintf("archive_%c", 'a'+i), Parallelism: s.par})
		if err != nil {
			return err
		}
		if err := s.cold.CreateSchema(ctx); err != nil {
			return err
		}
		start := time.Now()
		if s.svc, err = fill(ctx, store); err != nil {
			return err
		}
		fmt.Printf("setup %-10s %d cancelled and %d live bookings in %v\n", s.name, *records, users*4, time.Since(start).Round(time.Millisecond))
	}

	fmt.Printf("\nmoving %d records, MariaDB -> Cassandra\n", *records)
	rates := map[string]float64{}
	for _, s := range sides {
		a, err := archive.New(archivesource.New(s.svc), s.cold, &archive.Options{Age: 30 * 24 * time.Hour, Batch: s.batch,
			Now: func() time.Time { return runAt }})
		if err != nil {
			return err
		}
		start := time.Now()
		moved, err := a.RunOnce(ctx)
		if err != nil {
			return err
		}
		el := time.Since(start)
		if moved != *records {
			return fmt.Errorf("%s moved %d records; want %d", s.name, moved, *records)
		}
		rates[s.name] = float64(moved) / el.Seconds()
		fmt.Printf("  %-10s batch %-4d %8.0f records/s  (%v)\n", s.name, s.batch, rates[s.name], el.Round(time.Millisecond))
	}
	fmt.Printf("  batched / one by one = %.1fx\n", rates["batched"]/rates["one by one"])

	// History pages of one user: 4 live bookings and records/users archived.
	s := sides[0]
	src := archivesource.New(s.svc)
	fmt.Printf("\nhistory page of 20, newest first, %d sequential reads each\n", *reads)
	merge := timeReads(func(i int) error {
		_, _, err := archive.Merge(ctx, fmt.Sprintf("user-%d", i%users), archive.Cursor{}, 20, src, s.cold)
		return err
	})
	live := timeReads(func(i int) error {
		_, err := s.svc.UserBookings(ctx, fmt.Sprintf("user-%d", i%users), reservation.Cursor{}, 20)
		return err
	})
	if merge.err != nil || live.err != nil {
		return fmt.Errorf("reads: %v %v", merge.err, live.err)
	}
	fmt.Printf("  Merge (MariaDB + Cassandra)  %7.0f pages/s  mean %v\n", merge.rate, merge.mean)
	fmt.Printf("  UserBookings (MariaDB only)  %7.0f pages/s  mean %v  (baseline)\n", live.rate, live.mean)
	fmt.Printf("  Merge / UserBookings = %.2fx\n", merge.rate/live.rate)
	return nil
}

type readResult struct {
	rate float64
	mean time.Duration
	err  error
}

func timeReads(read func(i int) error) readResult {
	for i := range 20 { // warm up connections and prepared statements
		if err := read(i); err != nil {
			return readResult{err: err}
		}
	}
	start := time.Now()
	for i := range *reads {
		if err := read(i); err != nil {
			return readResult{err: err}
		}
	}
	el := time.Since(start)
	return readResult{rate: float64(*reads) / el.Seconds(), mean: el / time.Duration(*reads)}
}

// fill makes -records cancelled bookings (held, then failed, in January)
// and 4 live holds per user, with 8 workers.
func fill(ctx context.Context, store reservation.Store) (*reservation.Service, error) {
	var tick atomic.Int64
	svc, err := reservation.New(store, &reservation.Options{
		Now:    func() time.Time { return created.Add(time.Duration(tick.Add(1)) * time.Millisecond) },
		MaxTTL: 90 * 24 * time.Hour, HoldTTL: 90 * 24 * time.Hour, KeyRetention: 90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	in := reservation.DateOf(2031, time.January, 2)
	if err := svc.SetInventory(ctx, "room", in, in+1, reservation.MaxRooms); err != nil {
		return nil, err
	}
	total := *records + users*4
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				b, err := svc.Hold(ctx, reservation.HoldRequest{Key: fmt.Sprint("k", i), User: fmt.Sprintf("user-%d", i%users),
					Room: "room", Quantity: 1, CheckIn: in, CheckOut: in + 1})
				if err == nil && i < *records {
					_, err = svc.Fail(ctx, b.ID)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return svc, <-errs
}
