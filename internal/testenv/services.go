package testenv

import (
	"context"
	"database/sql"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

const dialTimeout = 10 * time.Second

// RedisEnv is a Redis client and a key prefix unique to one test.
type RedisEnv struct {
	Client *redis.Client
	Addr   string
	// Prefix is unique to the test; every key the test writes must start
	// with it, so that cleanup deletes exactly those keys.
	Prefix string
}

// Key returns Prefix + ":" + name.
func (e *RedisEnv) Key(name string) string { return e.Prefix + ":" + name }

// Redis connects to SYSBLOCKS_REDIS_ADDR and returns a client with a key
// prefix unique to t. Keys under the prefix are deleted when t ends.
func Redis(t testing.TB) *RedisEnv {
	t.Helper()
	addr := lookup(t, EnvRedis)
	c := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("testenv: redis at %s (%s) does not answer: %v", addr, EnvRedis, err)
	}
	e := &RedisEnv{Client: c, Addr: addr, Prefix: Name(t, "sbt")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		defer cancel()
		iter := c.Scan(ctx, 0, e.Prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			c.Del(ctx, keys[:n]...)
			keys = keys[n:]
		}
		_ = c.Close()
	})
	return e
}

// MySQLEnv is a connection to a database created for one test.
type MySQLEnv struct {
	DB       *sql.DB
	DSN      string // DSN of the test database
	Database string
}

// MySQL connects to SYSBLOCKS_MYSQL_DSN, creates a fresh database for t and
// returns a pool connected to it. The database is dropped when t ends.
func MySQL(t testing.TB) *MySQLEnv {
	t.Helper()
	dsn := lookup(t, EnvMySQL)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvMySQL, err)
	}
	cfg.ParseTime = true
	cfg.MultiStatements = true
	cfg.Timeout = dialTimeout
	admin := cfg.Clone()
	admin.DBName = ""
	root, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	name := Name(t, "sdk")
	if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		_ = root.Close()
		t.Fatalf("testenv: mysql at %s (%s): create database: %v", cfg.Addr, EnvMySQL, err)
	}
	cfg.DBName = name
	env := &MySQLEnv{DSN: cfg.FormatDSN(), Database: name}
	env.DB, err = sql.Open("mysql", env.DSN)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		_ = env.DB.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := root.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
		_ = root.Close()
	})
	return env
}

// KafkaEnv is the address of a Kafka cluster and a source of unique topics.
type KafkaEnv struct {
	Brokers []string
	t       testing.TB
}

// Kafka returns the brokers of SYSBLOCKS_KAFKA_BROKERS after checking that
// they answer a metadata request.
func Kafka(t testing.TB) *KafkaEnv {
	t.Helper()
	brokers := strings.Split(lookup(t, EnvKafka), ",")
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: dialTimeout, Transport: tr}
	if _, err := c.Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
		t.Fatalf("testenv: kafka at %v (%s) does not answer: %v", brokers, EnvKafka, err)
	}
	return &KafkaEnv{Brokers: brokers, t: t}
}

// Topic creates a topic with a name unique to the test and the given number
// of partitions, waits until it has a leader for every partition, and deletes
// it when the test ends.
func (e *KafkaEnv) Topic(partitions int) string {
	t := e.t
	t.Helper()
	name := Name(t, "sbt")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A transport of its own, closed below, so that no connection pool
	// goroutine outlives the test (goleak checks would see it).
	tr := &kafka.Transport{}
	c := &kafka.Client{Addr: kafka.TCP(e.Brokers...), Timeout: 30 * time.Second, Transport: tr}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = res.Errors[name]
	}
	if err != nil {
		t.Fatalf("testenv: create topic %s: %v", name, err)
	}
	for {
		md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
		if err == nil && len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) == partitions {
			ready := true
			for _, p := range md.Topics[0].Partitions {
				ready = ready && p.Leader.Host != ""
			}
			if ready {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("testenv: topic %s has no leader after 30s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tr.CloseIdleConnections()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
		tr.CloseIdleConnections()
	})
	return name
}

// CassandraEnv is a session bound to a keyspace created for one test.
type CassandraEnv struct {
	Session  *gocql.Session
	Hosts    []string
	Keyspace string
}

// Cassandra connects to SYSBLOCKS_CASSANDRA_HOSTS, creates a fresh keyspace
// (SimpleStrategy, replication factor 1) and returns a session using it. The
// keyspace is dropped when t ends.
func Cassandra(t testing.TB) *CassandraEnv {
	t.Helper()
	hosts := strings.Split(lookup(t, EnvCassandra), ",")
	admin, err := cassandraSession(hosts, "")
	if err != nil {
		t.Fatalf("testenv: cassandra at %v (%s) does not answer: %v", hosts, EnvCassandra, err)
	}
	ks := Name(t, "sbt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin.Query(`CREATE KEYSPACE ` + ks + ` WITH replication = {'class':'SimpleStrategy','replication_factor':1}`).ExecContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("testenv: create keyspace %s: %v", ks, err)
	}
	s, err := cassandraSession(hosts, ks)
	if err != nil {
		admin.Close()
		t.Fatalf("testenv: cassandra session on %s: %v", ks, err)
	}
	t.Cleanup(func() {
		s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.Query(`DROP KEYSPACE IF EXISTS ` + ks).ExecContext(ctx); err != nil {
			t.Errorf("testenv: drop keyspace %s: %v", ks, err)
		}
		admin.Close()
	})
	return &CassandraEnv{Session: s, Hosts: hosts, Keyspace: ks}
}

func cassandraSession(hosts []string, keyspace string) (*gocql.Session, error) {
	c := gocql.NewCluster(hosts...)
	c.Keyspace = keyspace
	c.Consistency = gocql.One
	c.Timeout = 20 * time.Second
	c.ConnectTimeout = dialTimeout
	c.MaxWaitSchemaAgreement = time.Minute
	c.NumConns = 1
	return c.CreateSession()
}

// FFmpegEnv names the ffmpeg and ffprobe binaries.
type FFmpegEnv struct {
	FFmpeg  string
	FFprobe string
}

// FFmpeg finds ffmpeg and ffprobe in SYSBLOCKS_FFMPEG or on PATH.
func FFmpeg(t testing.TB) *FFmpegEnv {
	t.Helper()
	find := func(name string) string {
		if dir := os.Getenv(EnvFFmpeg); dir != "" {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("testenv: %s=%s: %v", EnvFFmpeg, dir, err)
			}
			return p
		}
		p, err := exec.LookPath(name)
		if err != nil {
			Skip(t, "install "+name+" (Debian package ffmpeg) to run")
		}
		return p
	}
	return &FFmpegEnv{FFmpeg: find("ffmpeg"), FFprobe: find("ffprobe")}
}

// TURNEnv describes the coturn server started by scripts/services/coturn.sh:
// a static long-term user on Addr and a TURN REST shared secret on RESTAddr.
type TURNEnv struct {
	Addr     string // static-user server, UDP and TCP
	Realm    string
	User     string
	Password string
	RESTAddr string // REST shared-secret server
	Secret   string
}

// TURN returns the coturn servers of SYSBLOCKS_TURN_ADDR after checking that
// the address answers on TCP. The REST server listens on the next port.
// User, password, realm and secret may be overridden with
// SYSBLOCKS_TURN_USER, SYSBLOCKS_TURN_PASSWORD, SYSBLOCKS_TURN_REALM and
// SYSBLOCKS_TURN_SECRET.
func TURN(t testing.TB) *TURNEnv {
	t.Helper()
	addr := lookup(t, EnvTURN)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("testenv: %s=%q: %v", EnvTURN, addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("testenv: %s=%q: bad port", EnvTURN, addr)
	}
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		t.Fatalf("testenv: turn server at %s (%s) does not answer: %v", addr, EnvTURN, err)
	}
	_ = c.Close()
	get := func(env, def string) string {
		if v := os.Getenv(env); v != "" {
			return v
		}
		return def
	}
	return &TURNEnv{
		Addr:     addr,
		Realm:    get("SYSBLOCKS_TURN_REALM", "sysblocks.test"),
		User:     get("SYSBLOCKS_TURN_USER", "alice"),
		Password: get("SYSBLOCKS_TURN_PASSWORD", "secret"),
		RESTAddr: net.JoinHostPort(host, strconv.Itoa(p+1)),
		Secret:   get("SYSBLOCKS_TURN_SECRET", "s3cr3t"),
	}
}

// Chromium returns the path of the Chromium binary named by
// SYSBLOCKS_CHROMIUM after checking that it runs.
func Chromium(t testing.TB) string {
	t.Helper()
	path := lookup(t, EnvChromium)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: %s=%s: %v: %s", EnvChromium, path, err, out)
	}
	return path
}

// ChromiumArgs are the flags a headless Chromium needs on this kind of
// machine: no sandbox as root, no GPU, and no background traffic to the
// outside network.
func ChromiumArgs(userDataDir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--user-data-dir=" + userDataDir,
	}
}
