package rides_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/proctest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// crashConfig tells the child process of a crash test where the
// real servers and the test's names are.
type crashConfig struct {
	RedisAddr, RedisPrefix   string
	MySQLDSN                 string
	CassandraHosts           []string
	Keyspace                 string
	Brokers                  []string
	LocationTopic, TripTopic string
	Group                    string
}

const crashEnv = "RIDES_CRASH_CHILD"

// TestCrashDuringDispatch kills (SIGKILL) a rides process on the real
// servers while a trip is offered to a driver, then starts a new process on
// the same servers: its archiver cancels the orphaned trip as
// dispatch_lost, the trip is in the rider's history, and the rider can
// book again.
func TestCrashDuringDispatch(t *testing.T) {
	if v := os.Getenv(crashEnv); v != "" {
		crashChild(t, v)
		return
	}
	r := testenv.Redis(t)
	m := testenv.MySQL(t)
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	cc := crashConfig{
		RedisAddr: r.Addr, RedisPrefix: r.Key("grid"), MySQLDSN: m.DSN,
		CassandraHosts: dial.Split(os.Getenv(testenv.EnvCassandra)), Keyspace: c.Keyspace, Brokers: k.Brokers,
		LocationTopic: k.Topic(3), TripTopic: k.Topic(3), Group: testenv.Name(t, "crash"),
	}
	child := startChild(t, "TestCrashDuringDispatch", crashEnv, cc)
	base := strings.TrimPrefix(child.await("URL "), "URL ")
	ce := &env{t: t, base: base}
	d := ce.connect("crash-d")
	d.ping(pickLat, pickLng)
	tr := ce.book("crash-r", false)
	d.offer(tr.ID)
	if got := ce.trip(tr.ID); got.State != "offered" {
		t.Fatalf("before the crash: got %+v; want offered", got)
	}

	child.kill() // SIGKILL mid-dispatch: no cleanup runs in the child.
	d.closed()

	e := start(t, func(t *testing.T, s backends.Settings) *backends.Stack {
		s.RedisPrefix, s.LocationTopic, s.TripTopic = cc.RedisPrefix, cc.LocationTopic, cc.TripTopic
		s.Group = cc.Group + "_after"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := backends.Real(ctx, backends.Clients{Redis: r.Client, MySQL: m.DB, Cassandra: c.Session, Brokers: k.Brokers}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}, rides.Config{})
	if got := e.trip(tr.ID); got.State != "offered" {
		t.Fatalf("after the crash: got %+v; want still offered in MariaDB", got)
	}
	e.want(e.do("POST", "/v1/trips", `{"rider":"crash-r","lat":1,"lng":2,"dest_lat":1.01,"dest_lng":2.01}`), 409, "rider_busy", "book while the orphan is active")
	e.clock.Advance(10 * time.Minute) // longer than any dispatch: OfferTimeout * Rounds + 1 min
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := e.svc.Archive(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.trip(tr.ID)
	if got.State != "cancelled" || got.Reason != rides.ReasonLost {
		t.Fatalf("orphaned trip: got %+v; want cancelled, %s", got, rides.ReasonLost)
	}
	var h struct{ Trips []tripJSON }
	e.do("GET", "/v1/riders/crash-r/trips", "").json(t, &h)
	if len(h.Trips) != 1 || h.Trips[0].ID != tr.ID {
		t.Errorf("history of crash-r: got %+v; want the orphaned trip", h.Trips)
	}
	e.want(e.do("POST", "/v1/trips", `{"rider":"crash-r","lat":1,"lng":2,"dest_lat":1.01,"dest_lng":2.01}`), 202, "", "book after recovery")
}

// crashChild serves rides on the real servers until it is killed.
func crashChild(t *testing.T, config string) {
	cc, db, sess := childClients(t, config)
	ctx := context.Background()
	st, err := backends.Real(ctx, backends.Clients{
		Redis: redis.NewClient(&redis.Options{Addr: cc.RedisAddr}), MySQL: db, Cassandra: sess, Brokers: cc.Brokers,
	}, backends.Settings{RedisPrefix: cc.RedisPrefix, LocationTopic: cc.LocationTopic, TripTopic: cc.TripTopic, Group: cc.Group})
	if err != nil {
		t.Fatal(err)
	}
	var cfg rides.Config
	st.Apply(&cfg)
	svc, err := rides.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = svc.Run(ctx) }()
	go func() { _ = http.Serve(ln, svc.Handler()) }()
	for svc.Stats() == nil || !healthy("http://"+ln.Addr().String()) {
		time.Sleep(10 * time.Millisecond)
	}
	os.Stdout.WriteString("URL http://" + ln.Addr().String() + "\n")
	time.Sleep(time.Hour) // until SIGKILL
}

// childClients decodes a child's crashConfig and opens its MariaDB and
// Cassandra clients.
func childClients(t *testing.T, config string) (crashConfig, *sql.DB, *gocql.Session) {
	var cc crashConfig
	if err := json.Unmarshal([]byte(config), &cc); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cc.MySQLDSN)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := dial.CassandraSession(context.Background(), cc.CassandraHosts, cc.Keyspace)
	if err != nil {
		t.Fatal(err)
	}
	return cc, db, sess
}

// child is a test binary re-executed to run one test as a process that
// the parent kills.
type child struct{ *proctest.Child }

// startChild runs the test named test in a new process of the test binary
// with the environment variable envName set to config as JSON.
func startChild(t *testing.T, test, envName string, config any) *child {
	t.Helper()
	return &child{proctest.StartChild(t, test, envName, config)}
}

// await returns the first line of the child's output that starts with
// prefix, and then drains the rest.
func (c *child) await(prefix string) string { return prefix + c.Await(prefix) }

// kill sends SIGKILL to the child and waits for it to end.
func (c *child) kill() { c.Kill() }

func healthy(base string) bool {
	res, err := http.Get(base + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
