package dial

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// Env is where the real servers are, from the SYSBLOCKS_* variables.
type Env struct {
	RedisAddr      string   // SYSBLOCKS_REDIS_ADDR
	MySQLDSN       string   // SYSBLOCKS_MYSQL_DSN
	CassandraHosts []string // SYSBLOCKS_CASSANDRA_HOSTS, comma-separated
	KafkaBrokers   []string // SYSBLOCKS_KAFKA_BROKERS, comma-separated
	// Keyspace is the Cassandra keyspace, created with SimpleStrategy and
	// replication factor 1 if it does not exist. Each example fills in
	// its own default when it is empty.
	Keyspace string
}

// Split splits a comma-separated list, dropping empty items.
func Split(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// EnvFromOS reads the SYSBLOCKS_* variables.
func EnvFromOS() Env {
	return Env{
		RedisAddr:      os.Getenv("SYSBLOCKS_REDIS_ADDR"),
		MySQLDSN:       os.Getenv("SYSBLOCKS_MYSQL_DSN"),
		CassandraHosts: Split(os.Getenv("SYSBLOCKS_CASSANDRA_HOSTS")),
		KafkaBrokers:   Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS")),
	}
}

// Missing returns the names of the variables e lacks, in a fixed order.
func (e Env) Missing() []string {
	var missing []string
	for _, v := range []struct {
		name  string
		unset bool
	}{
		{"SYSBLOCKS_REDIS_ADDR", e.RedisAddr == ""},
		{"SYSBLOCKS_MYSQL_DSN", e.MySQLDSN == ""},
		{"SYSBLOCKS_CASSANDRA_HOSTS", len(e.CassandraHosts) == 0},
		{"SYSBLOCKS_KAFKA_BROKERS", len(e.KafkaBrokers) == 0},
	} {
		if v.unset {
			missing = append(missing, v.name)
		}
	}
	return missing
}

// Conns are the clients of one real-mode process. Kafka has none: its
// writers and readers are made per topic from Env.KafkaBrokers.
type Conns struct {
	Redis     *redis.Client
	MySQL     *sql.DB
	Cassandra *gocql.Session
}

// Open connects to the Redis, MariaDB and Cassandra of e, checks each with a
// real request, and creates e.Keyspace if needed. tune, when not nil,
// adjusts the MySQL driver settings parsed from e.MySQLDSN (ParseTime, for
// example). On error, whatever was opened is closed again.
func Open(ctx context.Context, e Env, tune func(*mysql.Config)) (_ *Conns, err error) {
	if m := e.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("dial: real mode: set %s", strings.Join(m, ", "))
	}
	c := &Conns{}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	c.Redis = redis.NewClient(&redis.Options{Addr: e.RedisAddr})
	if err := c.Redis.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("dial: redis %s: %w", e.RedisAddr, err)
	}
	cfg, err := mysql.ParseDSN(e.MySQLDSN)
	if err != nil {
		return nil, fmt.Errorf("dial: SYSBLOCKS_MYSQL_DSN: %w", err)
	}
	if tune != nil {
		tune(cfg)
	}
	if c.MySQL, err = sql.Open("mysql", cfg.FormatDSN()); err != nil {
		return nil, fmt.Errorf("dial: mysql: %w", err)
	}
	if err := c.MySQL.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("dial: mysql: %w", err)
	}
	if c.Cassandra, err = CassandraSession(ctx, e.CassandraHosts, e.Keyspace); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes every client that is open; it may be called on a partly
// opened Conns.
func (c *Conns) Close() error {
	var errs []error
	if c.Cassandra != nil {
		c.Cassandra.Close()
	}
	if c.MySQL != nil {
		errs = append(errs, c.MySQL.Close())
	}
	if c.Redis != nil {
		errs = append(errs, c.Redis.Close())
	}
	return errors.Join(errs...)
}
