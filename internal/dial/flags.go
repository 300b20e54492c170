package dial

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"
)

// Flags are the real-mode server flags of an example program: -redis-addr,
// -mysql-dsn, -cassandra-hosts, -kafka-brokers and -cassandra-keyspace,
// their defaults read from the SYSBLOCKS_* variables.
type Flags struct {
	redisAddr, mysqlDSN, cassandra, kafka, keyspace *string
}

// Usage words the help of the -redis-addr and -mysql-dsn flags: what the
// server is and, if the program says so, what it is for. Empty fields mean
// "Redis" and "MariaDB/MySQL DSN".
type Usage struct {
	Redis string
	MySQL string
}

// AddFlags defines the real-mode server flags on fs, with defaults from
// EnvFromOS and keyspace as the default of -cassandra-keyspace.
func AddFlags(fs *flag.FlagSet, keyspace string, u Usage) *Flags {
	if u.Redis == "" {
		u.Redis = "Redis"
	}
	if u.MySQL == "" {
		u.MySQL = "MariaDB/MySQL DSN"
	}
	env := EnvFromOS()
	return &Flags{
		redisAddr: fs.String("redis-addr", env.RedisAddr, "real mode: "+u.Redis+" (SYSBLOCKS_REDIS_ADDR)"),
		mysqlDSN:  fs.String("mysql-dsn", env.MySQLDSN, "real mode: "+u.MySQL+" (SYSBLOCKS_MYSQL_DSN)"),
		cassandra: fs.String("cassandra-hosts", strings.Join(env.CassandraHosts, ","), "real mode: Cassandra hosts (SYSBLOCKS_CASSANDRA_HOSTS)"),
		kafka:     fs.String("kafka-brokers", strings.Join(env.KafkaBrokers, ","), "real mode: Kafka brokers (SYSBLOCKS_KAFKA_BROKERS)"),
		keyspace:  fs.String("cassandra-keyspace", keyspace, "real mode: Cassandra keyspace, created if missing"),
	}
}

// Env returns the servers the flags name, once fs has been parsed.
func (f *Flags) Env() Env {
	return Env{
		RedisAddr: *f.redisAddr, MySQLDSN: *f.mysqlDSN,
		CassandraHosts: Split(*f.cassandra), KafkaBrokers: Split(*f.kafka), Keyspace: *f.keyspace,
	}
}

// DialTimeout bounds connecting to the real servers when a program starts.
const DialTimeout = 2 * time.Minute

// Backend opens the stack that the -backend flag names: memory, when
// backend is memName or "memory", or real, whose servers it connects to
// within DialTimeout. Any other name is an error that names the two
// choices.
func Backend[S any](ctx context.Context, backend, memName string, memory func() (S, error), real func(ctx context.Context) (S, error)) (S, error) {
	switch backend {
	case memName, "memory":
		return memory()
	case "real":
		ctx, cancel := context.WithTimeout(ctx, DialTimeout)
		defer cancel()
		return real(ctx)
	}
	var zero S
	return zero, fmt.Errorf("-backend %q: want %s or real", backend, memName)
}
