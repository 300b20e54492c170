// Command booking measures reservation holds on MariaDB against the naive
// way to sell rooms, and how long after its deadline an unpaid hold gives
// its room back, with Redis expiry notifications on and off.
//
// Holds per second, 64 concurrent clients, one-night stays of one room:
//
//   - reservation: reservation.Service on sqlstore (idempotency record,
//     booking row, conditional decrement, claim row, one transaction).
//   - naive: select-then-update in a transaction: SELECT available; if
//     enough, UPDATE available = available - q and INSERT the booking;
//     COMMIT. No lock on the read, no condition on the write.
//
// each on one hot room and on 1,000 rooms, first with more rooms than the
// run can sell (throughput), then with few rooms until they sell out
// (oversell: bookings beyond the rooms offered).
//
// Expiry lag: holds with a 1-2 s TTL that nobody pays; a prober retries a
// Hold on the same room from just before the deadline and records when it
// first succeeds (capacity visible to a new Hold); an Emitter records when
// the sweeper emits the hold's Cancelled event. With notifications on, a
// redisnotify.Notifier wakes the sweeper; with them off, only its period
// (SweepInterval, 1 s) does.
//
// It reads SYSBLOCKS_MYSQL_DSN and SYSBLOCKS_REDIS_ADDR, creates a database
// sdk_bench_booking_<random> and Redis keys under a random prefix, and
// removes both at the end.
//
//	go run ./booking
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/redisnotify"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
)

var (
	clients     = flag.Int("clients", 64, "concurrent clients")
	duration    = flag.Duration("duration", 20*time.Second, "time each seller sells in the throughput runs")
	slicesN     = flag.Int("slices", 5, "the throughput runs alternate between the sellers in this many slices")
	hotRooms    = flag.Int("hot-rooms", 200, "rooms offered on the hot room in the oversell run")
	spreadRooms = flag.Int("spread-rooms", 5, "rooms offered per room type in the 1,000-room oversell run")
	trials      = flag.Int("trials", 100, "unpaid holds per expiry-lag case")
	sweep       = flag.Duration("sweep", time.Second, "sweeper period (reservation.Options.SweepInterval)")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

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
	db, cleanup := openDatabase(ctx, dsn, "sdk_bench_booking_"+suffix)
	defer cleanup()
	db.SetMaxOpenConns(*clients + 8)
	db.SetMaxIdleConns(*clients + 8)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	prefix := "sbt_bench_booking_" + suffix + ":"
	defer deleteKeys(ctx, rdb, prefix)

	store := sqlstore.New(db, nil)
	check(store.CreateSchema(ctx))
	mustExec(ctx, db, `CREATE TABLE naive_inventory (room_id VARCHAR(64) NOT NULL, night DATE NOT NULL,
		initial INT NOT NULL, available INT NOT NULL, PRIMARY KEY (room_id, night)) ENGINE=InnoDB`)
	mustExec(ctx, db, `CREATE TABLE naive_booking (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id VARCHAR(64) NOT NULL,
		room_id VARCHAR(64) NOT NULL, check_in DATE NOT NULL, check_out DATE NOT NULL, quantity INT NOT NULL,
		state VARCHAR(16) NOT NULL) ENGINE=InnoDB`)

	var version string
	check(db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version))
	fmt.Printf("GOMAXPROCS=%d, %s, MariaDB %s, %d clients\n\n", runtime.GOMAXPROCS(0), runtime.Version(), version, *clients)

	// Throughput.
	fmt.Printf("Holds per second, %d clients, %v per seller in %d alternating slices, one-night stays of one room, nothing sold out\n",
		*clients, *duration, *slicesN)
	fmt.Printf("%-22s %12s %12s %12s %8s\n", "case", "reservation", "naive", "ratio", "errors")
	for _, rooms := range []int{1, 1000} {
		ours := &ourSeller{store: store, prefix: "t" + strconv.Itoa(rooms)}
		naive := &naiveSeller{db: db, prefix: "t" + strconv.Itoa(rooms)}
		ours.setup(ctx, rooms, reservation.MaxRooms)
		naive.setup(ctx, rooms, reservation.MaxRooms)
		var o, n result
		for range *slicesN {
			o.add(throughput(ctx, ours, rooms, *duration/time.Duration(*slicesN)))
			n.add(throughput(ctx, naive, rooms, *duration/time.Duration(*slicesN)))
		}
		fmt.Printf("%-22s %12.0f %12.0f %11.2fx %8d\n", roomsLabel(rooms), o.rate(), n.rate(), o.rate()/n.rate(), o.errors+n.errors)
	}
	fmt.Println("ratio: reservation holds/s divided by naive holds/s in the same run; goal >= 0.5")

	// Oversell.
	fmt.Println()
	fmt.Printf("Oversell: %d clients sell until sold out\n", *clients)
	fmt.Printf("%-34s %8s %14s %14s %14s %14s\n", "case", "offered", "reservation", "naive", "res. oversold", "naive oversold")
	for _, c := range []struct{ rooms, each int }{{1, *hotRooms}, {1000, *spreadRooms}} {
		ours := oversell(ctx, &ourSeller{store: store, prefix: "o" + strconv.Itoa(c.rooms)}, c.rooms, c.each)
		naive := oversell(ctx, &naiveSeller{db: db, prefix: "o" + strconv.Itoa(c.rooms)}, c.rooms, c.each)
		label := fmt.Sprintf("%s, %d rooms each", roomsLabel(c.rooms), c.each)
		fmt.Printf("%-34s %8d %14d %14d %14d %14d\n", label, c.rooms*c.each, ours.sold, naive.sold, ours.oversold, naive.oversold)
	}
	fmt.Println("oversold: bookings beyond the rooms offered, summed over room types (negative available in the naive table)")

	// Expiry lag.
	fmt.Println()
	fmt.Printf("Expiry lag of unpaid holds on sqlstore, %d holds per case, SweepInterval %v\n", *trials, *sweep)
	fmt.Printf("%-20s %16s %16s %16s %16s\n", "notifications", "free p50", "free p99", "cancelled p50", "cancelled p99")
	for _, on := range []bool{true, false} {
		l := expiryLag(ctx, store, rdb, prefix, on)
		label := "off (none heard)"
		if on {
			label = "on (redisnotify)"
		}
		fmt.Printf("%-20s %16v %16v %16v %16v\n", label, pct(l.free, 50), pct(l.free, 99), pct(l.cancelled, 50), pct(l.cancelled, 99))
	}
	fmt.Println("free: deadline -> first Hold of the same room that succeeds (a prober retries from 20 ms before the deadline).")
	fmt.Println("cancelled: deadline -> the sweeper's Cancelled event for the hold.")
	return nil
}

func roomsLabel(rooms int) string {
	if rooms == 1 {
		return "one hot room"
	}
	return fmt.Sprintf("%d rooms", rooms)
}

// seller sells one-night stays of one room.
type seller interface {
	setup(ctx context.Context, rooms, each int)
	// sell tries to book room; sold reports a booking, soldOut a refusal
	// for lack of rooms.
	sell(ctx context.Context, room, i int) (sold bool, err error)
	// oversold returns the bookings beyond the rooms offered.
	oversold(ctx context.Context, rooms, each int) int
}

var night = reservation.DateFromTime(time.Now().UTC()).AddDays(60)

type ourSeller struct {
	store  *sqlstore.Store
	svc    *reservation.Service
	prefix string
}

func (s *ourSeller) room(i int) string { return s.prefix + "-room-" + strconv.Itoa(i) }

func (s *ourSeller) setup(ctx context.Context, rooms, each int) {
	var err error
	s.svc, err = reservation.New(s.store, &reservation.Options{MaxRetries: 100})
	check(err)
	for i := range rooms {
		check(s.svc.SetInventory(ctx, s.room(i), night, night+1, each))
	}
}

func (s *ourSeller) sell(ctx context.Context, room, i int) (bool, error) {
	_, err := s.svc.Hold(ctx, reservation.HoldRequest{
		Key: s.prefix + "-k" + strconv.Itoa(i), User: "u" + strconv.Itoa(i%1000), Room: s.room(room),
		Quantity: 1, CheckIn: night, CheckOut: night + 1,
	})
	if errors.Is(err, reservation.ErrSoldOut) {
		return false, nil
	}
	return err == nil, err
}

func (s *ourSeller) oversold(ctx context.Context, rooms, each int) int {
	over := 0
	for i := range rooms {
		n, err := s.svc.Availability(ctx, s.room(i), night, night+1)
		check(err)
		over += max(0, -n[0].Available) // never negative: the CHECK constraint and the conditional decrement
	}
	return over
}

type naiveSeller struct {
	db     *sql.DB
	prefix string
}

func (s *naiveSeller) room(i int) string { return s.prefix + "-room-" + strconv.Itoa(i) }

func (s *naiveSeller) setup(ctx context.Context, rooms, each int) {
	for i := range rooms {
		_, err := s.db.ExecContext(ctx, "INSERT INTO naive_inventory VALUES (?, ?, ?, ?)", s.room(i), night.String(), each, each)
		check(err)
	}
}

func (s *naiveSeller) sell(ctx context.Context, room, i int) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var avail int
	if err := tx.QueryRowContext(ctx, "SELECT available FROM naive_inventory WHERE room_id = ? AND night = ?",
		s.room(room), night.String()).Scan(&avail); err != nil {
		return false, err
	}
	if avail < 1 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE naive_inventory SET available = available - 1 WHERE room_id = ? AND night = ?",
		s.room(room), night.String()); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO naive_booking (user_id, room_id, check_in, check_out, quantity, state) VALUES (?, ?, ?, ?, 1, 'reserved')",
		"u"+strconv.Itoa(i%1000), s.room(room), night.String(), (night + 1).String()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func (s *naiveSeller) oversold(ctx context.Context, rooms, each int) int {
	var over sql.NullInt64
	check(s.db.QueryRowContext(ctx, "SELECT SUM(-available) FROM naive_inventory WHERE room_id LIKE ? AND available < 0",
		s.prefix+"-room-%").Scan(&over))
	return int(over.Int64)
}

// requests numbers every sale attempt of the program, so that each has an
// idempotency key of its own.
var requests atomic.Int64

type result struct {
	sold, attempts, errors int64
	elapsed                time.Duration
	oversold               int
}

func (r result) rate() float64 { return float64(r.sold) / r.elapsed.Seconds() }

func (r *result) add(o result) {
	r.sold += o.sold
	r.attempts += o.attempts
	r.errors += o.errors
	r.elapsed += o.elapsed
}

// throughput runs clients sellers for d against rooms rooms that cannot
// sell out.
func throughput(ctx context.Context, s seller, rooms int, d time.Duration) result {
	var n, sold, errs atomic.Int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range *clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				n.Add(1)
				ok, err := s.sell(ctx, mrand.IntN(rooms), int(requests.Add(1)))
				switch {
				case err != nil:
					if errs.Add(1) == 1 {
						log.Printf("first error: %v", err)
					}
				case ok:
					sold.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return result{sold: sold.Load(), attempts: n.Load(), errors: errs.Load(), elapsed: time.Since(start)}
}

// oversell sells rooms room types with each rooms offered until the
// clients have seen every room type sold out.
func oversell(ctx context.Context, s seller, rooms, each int) result {
	s.setup(ctx, rooms, each)
	var n, sold atomic.Int64
	var mu sync.Mutex
	left := make([]int, rooms) // room types nobody has seen sold out yet
	for i := range left {
		left[i] = i
	}
	var fe firstError
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Go(func() {
			r := mrand.New(mrand.NewPCG(uint64(c), 1))
			for {
				mu.Lock()
				if len(left) == 0 {
					mu.Unlock()
					return
				}
				room := left[r.IntN(len(left))]
				mu.Unlock()
				n.Add(1)
				ok, err := s.sell(ctx, room, int(requests.Add(1)))
				if err != nil {
					fe.set(err)
					return
				}
				if ok {
					sold.Add(1)
					continue
				}
				mu.Lock()
				if k := slices.Index(left, room); k >= 0 {
					left = slices.Delete(left, k, k+1)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	check(fe.get())
	res := result{sold: sold.Load(), attempts: n.Load()}
	res.oversold = s.oversold(ctx, rooms, each)
	if got := int(res.sold) - rooms*each; got != res.oversold {
		fail("%T: %d sold of %d offered, but %d oversold in the table", s, res.sold, rooms*each, res.oversold)
	}
	return res
}

// firstError keeps the first error of a group of goroutines.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

type lags struct{ free, cancelled []time.Duration }

// expiryLag holds rooms that nobody pays and measures when they come back.
func expiryLag(ctx context.Context, store *sqlstore.Store, rdb *redis.Client, prefix string, on bool) lags {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	cancelledAt := map[string]time.Time{}
	emitter := reservation.EmitterFunc(func(_ context.Context, e reservation.Event) error {
		if e.Type == reservation.EventCancelled && e.Booking.Reason == reservation.ReasonExpired {
			mu.Lock()
			cancelledAt[e.Booking.ID] = time.Now()
			mu.Unlock()
		}
		return nil
	})
	mode := "off"
	if on {
		mode = "on"
	}
	notifier := redisnotify.New(rdb, &redisnotify.Options{Prefix: prefix + mode + ":"})
	check(notifier.Check(ctx))
	svc, err := reservation.New(store, &reservation.Options{SweepInterval: *sweep, Emitter: emitter, Alarm: notifier})
	check(err)
	var bg sync.WaitGroup
	bg.Go(func() { _ = svc.Run(ctx) })
	if on {
		bg.Go(func() { _ = notifier.Run(ctx, svc.Wake) })
	}
	defer bg.Wait()
	defer cancel()

	var res lags
	var fe firstError
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range *trials {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := trial(ctx, svc, fmt.Sprintf("lag-%s-%d", mode, i), &mu, cancelledAt, &res); err != nil {
				fe.set(err)
			}
		})
	}
	wg.Wait()
	check(fe.get())
	return res
}

// trial holds the one room of room until a random deadline 1-2 s away,
// and records when a prober gets the room and when the hold is cancelled.
func trial(ctx context.Context, svc *reservation.Service, room string, mu *sync.Mutex, cancelledAt map[string]time.Time, res *lags) error {
	if err := svc.SetInventory(ctx, room, night, night+1, 1); err != nil {
		return err
	}
	req := func(key string, ttl time.Duration) reservation.HoldRequest {
		return reservation.HoldRequest{Key: key, User: "u", Room: room, Quantity: 1, CheckIn: night, CheckOut: night + 1, TTL: ttl}
	}
	ttl := time.Second + time.Duration(mrand.Int64N(int64(time.Second)))
	h, err := svc.Hold(ctx, req(room+"-h", ttl))
	if err != nil {
		return err
	}
	time.Sleep(time.Until(h.ExpiresAt.Add(-20 * time.Millisecond)))
	var free time.Duration
	for k := 0; ; k++ {
		_, err := svc.Hold(ctx, req(room+"-p"+strconv.Itoa(k), 10*time.Minute))
		if err == nil {
			free = time.Since(h.ExpiresAt)
			break
		}
		if !errors.Is(err, reservation.ErrSoldOut) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	var cancelled time.Duration
	for {
		mu.Lock()
		at, ok := cancelledAt[h.ID]
		mu.Unlock()
		if ok {
			cancelled = at.Sub(h.ExpiresAt)
			break
		}
		if time.Since(h.ExpiresAt) > time.Minute {
			return fmt.Errorf("hold %s not cancelled a minute after its deadline", h.ID)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	res.free = append(res.free, free)
	res.cancelled = append(res.cancelled, cancelled)
	mu.Unlock()
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return s[max(i, 0)].Round(100 * time.Microsecond)
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
	cfg.InterpolateParams = true // both sellers: one round trip per statement
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
