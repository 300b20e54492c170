// Command tokenrange compares ID generation through tokenrange.Leaser with
// per-ID round trips to the same servers, and shows that background refills
// do not stall callers while the store answers within the refill window.
//
// Baselines, each one round trip per ID:
//
//   - ticket-update: the Flickr ticket server on MariaDB,
//     UPDATE tickets SET id = LAST_INSERT_ID(id + 1) (the new ID comes back
//     in the OK packet).
//   - ticket-replace: the original Flickr form, REPLACE INTO tickets64 (stub)
//     VALUES ('a') on an AUTO_INCREMENT table.
//   - redis-incr: INCR on one Redis key.
//
// Against them: a Leaser on sqlstore and on redisstore, one goroutine and
// GOMAXPROCS goroutines. Then the refill experiment: a store that answers
// after a fixed delay, a Leaser with and without Run, and the largest time
// a single Next call took.
//
// It reads SYSBLOCKS_MYSQL_DSN and SYSBLOCKS_REDIS_ADDR, creates a database
// sdk_bench_tokenrange_<random> and Redis keys under a random prefix, and
// removes both at the end.
//
//	go run ./tokenrange
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
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/redisstore"
	"github.com/sysblocks/sysblocks/tokenrange/sqlstore"
)

var (
	ticketIDs  = flag.Int("ticket-ids", 20_000, "IDs drawn one round trip at a time, per baseline")
	leaserIDs  = flag.Int("leaser-ids", 50_000_000, "IDs drawn from each Leaser run")
	latencyIDs = flag.Int("latency-ids", 20_000_000, "IDs drawn, each timed, per refill case")
	delay      = flag.Duration("delay", 20*time.Millisecond, "store answer time in the refill experiment")
	slowDelay  = flag.Duration("slow-delay", 500*time.Millisecond, "store answer time beyond the refill window")
	bigMax     = flag.Uint64("big-max", 10_000_000, "LeaserOptions.MaxSize of the second sqlstore run (the default is 1,000,000)")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// failure carries an error out of a helper by panic, so that run's
// deferred cleanup (dropping the database, deleting keys) always happens.
type failure struct{ err error }

func fail(format string, args ...any) { panic(failure{fmt.Errorf(format, args...)}) }

func check(err error) {
	if err != nil {
		panic(failure{err})
	}
}

func run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	dsn, addr := os.Getenv("SYSBLOCKS_MYSQL_DSN"), os.Getenv("SYSBLOCKS_REDIS_ADDR")
	if dsn == "" || addr == "" {
		return fmt.Errorf("set SYSBLOCKS_MYSQL_DSN and SYSBLOCKS_REDIS_ADDR")
	}
	ctx := context.Background()
	suffix := randHex(4)

	db, cleanupDB := openDatabase(ctx, dsn, "sdk_bench_tokenrange_"+suffix)
	defer cleanupDB()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	prefix := "sbt_bench_tokenrange_" + suffix + ":"
	defer deleteKeys(ctx, rdb, prefix)

	fmt.Printf("GOMAXPROCS=%d, %s\n\n", runtime.GOMAXPROCS(0), runtime.Version())

	// Baselines: one round trip per ID.
	upd := ticketUpdate(ctx, db, *ticketIDs)
	rep := ticketReplace(ctx, db, *ticketIDs)
	inc := redisIncr(ctx, rdb, prefix+"incr", *ticketIDs)

	mariadb := sqlstore.New(db, nil)
	check(mariadb.CreateSchema(ctx))
	red := redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	procs := runtime.GOMAXPROCS(0)
	ls1 := leaserRun(ctx, mariadb, "sql-1", 1, *leaserIDs, 0)
	lsN := leaserRun(ctx, mariadb, "sql-n", procs, *leaserIDs, 0)
	lb1 := leaserRun(ctx, mariadb, "sql-big-1", 1, *leaserIDs, *bigMax)
	lbN := leaserRun(ctx, mariadb, "sql-big-n", procs, *leaserIDs, *bigMax)
	lr1 := leaserRun(ctx, red, "redis-1", 1, *leaserIDs, 0)
	lrN := leaserRun(ctx, red, "redis-n", procs, *leaserIDs, 0)

	fmt.Println("ID throughput (one run; ratios against the per-ID baseline on the same server)")
	fmt.Printf("%-40s %14s %12s %16s %10s\n", "method", "IDs/s", "ns/ID", "round trips/1M", "vs base")
	row := func(name string, r result, rtPerCall float64, base result) {
		ratio := r.rate() / base.rate()
		rs := fmt.Sprintf("%.0fx", ratio)
		if ratio < 10 {
			rs = fmt.Sprintf("%.2fx", ratio)
		}
		fmt.Printf("%-40s %14.0f %12.1f %16.1f %10s\n", name, r.rate(), r.nsPer(), r.perMillion()*rtPerCall, rs)
	}
	row("ticket-update (MariaDB, per ID)", upd, 1, upd)
	row("ticket-replace (MariaDB, per ID)", rep, 1, upd)
	row("Leaser on sqlstore, 1 goroutine", ls1, 5, upd)
	row(fmt.Sprintf("Leaser on sqlstore, %d goroutines", procs), lsN, 5, upd)
	row(fmt.Sprintf("  same, MaxSize %d, 1 goroutine", *bigMax), lb1, 5, upd)
	row(fmt.Sprintf("  same, MaxSize %d, %d goroutines", *bigMax, procs), lbN, 5, upd)
	row("redis-incr (per ID)", inc, 1, inc)
	row("Leaser on redisstore, 1 goroutine", lr1, 1, inc)
	row(fmt.Sprintf("Leaser on redisstore, %d goroutines", procs), lrN, 1, inc)
	fmt.Println("round trips: sqlstore Reserve = 5 (START TRANSACTION, SELECT ... FOR UPDATE, UPDATE, INSERT audit, COMMIT);")
	fmt.Println("redisstore Reserve = 1 (INCRBY); Reserve calls per 1M IDs:")
	for _, r := range []result{ls1, lsN, lb1, lbN, lr1, lrN} {
		fmt.Printf("  %-10s %8.2f Reserve/1M IDs, %d fetches, max range %d, stalls %d\n", r.name, r.perMillion(), r.calls, r.maxSize, r.stalls)
	}

	// Refill experiment.
	fmt.Println()
	fmt.Println("Refill experiment: sqlstore behind a fixed answer delay; every Next timed")
	fmt.Printf("%-40s %7s %7s %13s %13s %9s %11s\n", "case", "fetches", "stalls", "max stalled", "max other", "Next>1ms", "range lasts")
	for _, c := range []struct {
		name  string
		delay time.Duration
		run   bool
	}{
		{fmt.Sprintf("Run, store answers in %v", *delay), *delay, true},
		{fmt.Sprintf("no Run (fetch in caller), %v", *delay), *delay, false},
		{fmt.Sprintf("Run, store answers in %v", *slowDelay), *slowDelay, true},
	} {
		latencyRun(ctx, &delayStore{Store: mariadb, delay: c.delay}, c.name, c.run, *latencyIDs)
	}
	fmt.Println("stalls: Next calls that waited for the store. max stalled: slowest such call. max other: slowest call")
	fmt.Println("that did not wait for the store (scheduling, GC). range lasts: median range size / rate of Next")
	fmt.Println("outside slow calls; the store has (1 - RefillAt) = 90% of it to answer before anyone waits.")
	return nil
}

type result struct {
	name    string
	ids     int
	elapsed time.Duration
	calls   uint64 // store calls
	stalls  uint64
	maxSize uint64
}

func (r result) rate() float64       { return float64(r.ids) / r.elapsed.Seconds() }
func (r result) nsPer() float64      { return float64(r.elapsed.Nanoseconds()) / float64(r.ids) }
func (r result) perMillion() float64 { return float64(r.calls) / float64(r.ids) * 1e6 }

func ticketUpdate(ctx context.Context, db *sql.DB, n int) result {
	mustExec(ctx, db, "CREATE TABLE tickets (stub CHAR(1) NOT NULL PRIMARY KEY, id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB")
	mustExec(ctx, db, "INSERT INTO tickets VALUES ('a', 0)")
	start := time.Now()
	var last int64
	for range n {
		res, err := db.ExecContext(ctx, "UPDATE tickets SET id = LAST_INSERT_ID(id + 1) WHERE stub = 'a'")
		check(err)
		id, err := res.LastInsertId()
		if err != nil || id != last+1 {
			fail("ticket %d after %d: %v", id, last, err)
		}
		last = id
	}
	return result{name: "ticket-update", ids: n, elapsed: time.Since(start), calls: uint64(n)}
}

func ticketReplace(ctx context.Context, db *sql.DB, n int) result {
	mustExec(ctx, db, "CREATE TABLE tickets64 (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, stub CHAR(1) NOT NULL UNIQUE) ENGINE=InnoDB")
	start := time.Now()
	var last int64
	for range n {
		res, err := db.ExecContext(ctx, "REPLACE INTO tickets64 (stub) VALUES ('a')")
		check(err)
		id, err := res.LastInsertId()
		if err != nil || id <= last {
			fail("ticket %d after %d: %v", id, last, err)
		}
		last = id
	}
	return result{name: "ticket-replace", ids: n, elapsed: time.Since(start), calls: uint64(n)}
}

func redisIncr(ctx context.Context, rdb *redis.Client, key string, n int) result {
	start := time.Now()
	for range n {
		check(rdb.Incr(ctx, key).Err())
	}
	return result{name: "redis-incr", ids: n, elapsed: time.Since(start), calls: uint64(n)}
}

// countingStore counts Reserve calls and records the largest range.
type countingStore struct {
	tokenrange.Store
	calls   atomic.Uint64
	maxSize atomic.Uint64
}

func (c *countingStore) Reserve(ctx context.Context, ns string, n, limit uint64) (tokenrange.Range, error) {
	c.calls.Add(1)
	r, err := c.Store.Reserve(ctx, ns, n, limit)
	for m := c.maxSize.Load(); r.Len() > m && !c.maxSize.CompareAndSwap(m, r.Len()); m = c.maxSize.Load() {
	}
	return r, err
}

// leaserRun draws ids tokens with g goroutines from a running Leaser on
// store and checks that no goroutine saw a token twice or out of order.
func leaserRun(ctx context.Context, store tokenrange.Store, ns string, g, ids int, maxSize uint64) result {
	cs := &countingStore{Store: store}
	l := newLeaser(cs, ns, maxSize)
	runCtx, stop := context.WithCancel(ctx)
	var runWG sync.WaitGroup
	runWG.Go(func() { _ = l.Run(runCtx) })
	if _, err := l.Next(ctx); err != nil { // first range
		check(err)
	}
	base := l.Stats()
	per := ids / g
	start := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for range g {
		wg.Go(func() {
			var last uint64
			for i := range per {
				tok, err := l.Next(ctx)
				if err == nil && i > 0 && tok <= last {
					err = fmt.Errorf("token %d after %d from one goroutine", tok, last)
				}
				if err != nil {
					e := err // only this copy escapes, and only on failure
					firstErr.CompareAndSwap(nil, &e)
					return
				}
				last = tok
			}
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		check(*p)
	}
	elapsed := time.Since(start)
	st := l.Stats()
	stop()
	runWG.Wait()
	_ = l.Close()
	return result{name: ns, ids: per * g, elapsed: elapsed, calls: st.Fetches - base.Fetches,
		stalls: st.Stalls - base.Stalls, maxSize: cs.maxSize.Load()}
}

// newLeaser returns a Leaser with default options but MaxSize (0 = default).
func newLeaser(store tokenrange.Store, ns string, maxSize uint64) *tokenrange.Leaser {
	alloc, err := tokenrange.NewAllocator(store, nil)
	check(err)
	l, err := tokenrange.NewLeaser(alloc, ns, &tokenrange.LeaserOptions{MaxSize: maxSize})
	check(err)
	return l
}

// delayStore answers every Reserve after a fixed delay, like a distant
// database.
type delayStore struct {
	tokenrange.Store
	delay time.Duration
	mu    sync.Mutex
	sizes []uint64
}

func (d *delayStore) Reserve(ctx context.Context, ns string, n, limit uint64) (tokenrange.Range, error) {
	time.Sleep(d.delay)
	r, err := d.Store.Reserve(ctx, ns, n, limit)
	d.mu.Lock()
	d.sizes = append(d.sizes, r.Len())
	d.mu.Unlock()
	return r, err
}

// latencyRun times every Next of one goroutine, after a warm-up that lets
// the range size settle. A call over 1ms is attributed to the store when the
// Leaser's stall counter moved during it, and to scheduling otherwise.
func latencyRun(ctx context.Context, store *delayStore, name string, withRun bool, ids int) {
	ns := "lat-" + randHex(4)
	l := newLeaser(store, ns, 0)
	runCtx, stop := context.WithCancel(ctx)
	var runWG sync.WaitGroup
	if withRun {
		runWG.Go(func() { _ = l.Run(runCtx) })
	}
	for l.Stats().Fetches < 4 { // warm-up: the first ranges are small by design
		_, err := l.Next(ctx)
		check(err)
	}
	store.mu.Lock()
	store.sizes = store.sizes[:0]
	store.mu.Unlock()
	base := l.Stats()
	seen := base.Stalls
	var worstStall, worstOther, slowTotal time.Duration
	slow := 0
	start := time.Now()
	for range ids {
		t0 := time.Now()
		_, err := l.Next(ctx)
		check(err)
		d := time.Since(t0)
		if d > time.Millisecond {
			slow++
			slowTotal += d
			if st := l.Stats(); st.Stalls != seen {
				seen = st.Stalls
				worstStall = max(worstStall, d)
				continue
			}
			worstOther = max(worstOther, d)
		}
	}
	busy := time.Since(start) - slowTotal
	st := l.Stats()
	stop()
	runWG.Wait()
	_ = l.Close()
	store.mu.Lock()
	median := medianOf(store.sizes)
	store.mu.Unlock()
	lasts := time.Duration(float64(median) / (float64(ids) / busy.Seconds()) * float64(time.Second))
	fmt.Printf("%-40s %7d %7d %13v %13v %9d %11v\n", name, st.Fetches-base.Fetches, st.Stalls-base.Stalls,
		worstStall.Round(time.Microsecond), worstOther.Round(time.Microsecond), slow, lasts.Round(time.Millisecond))
}

func medianOf(xs []uint64) uint64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func openDatabase(ctx context.Context, dsn, name string) (*sql.DB, func()) {
	cfg, err := mysql.ParseDSN(dsn)
	check(err)
	admin := cfg.Clone()
	admin.DBName = ""
	root, err := sql.Open("mysql", admin.FormatDSN())
	check(err)
	mustExec(ctx, root, "CREATE DATABASE `"+name+"`")
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	check(err)
	return db, func() {
		_ = db.Close()
		if _, err := root.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			log.Printf("drop database %s: %v", name, err)
		}
		_ = root.Close()
	}
}

func deleteKeys(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func mustExec(ctx context.Context, db *sql.DB, q string) {
	if _, err := db.ExecContext(ctx, q); err != nil {
		fail("%s: %v", q, err)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
