// Package dial holds the client set-up that the example programs share in
// their real-services mode, so that each example keeps only its own wiring.
package dial

import (
	"context"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/segmentio/kafka-go"
)

// CassandraSession creates keyspace (SimpleStrategy, replication factor 1)
// if it does not exist and returns a session on it, at quorum consistency.
// keyspace must be 1 to 48 letters, digits and underscores.
func CassandraSession(ctx context.Context, hosts []string, keyspace string) (*gocql.Session, error) {
	if !ValidKeyspace(keyspace) {
		return nil, fmt.Errorf("dial: keyspace %q: want 1 to 48 letters, digits and underscores", keyspace)
	}
	cluster := func(ks string) *gocql.ClusterConfig {
		c := gocql.NewCluster(hosts...)
		c.Keyspace = ks
		c.Consistency = gocql.Quorum
		c.Timeout = 10 * time.Second
		c.ConnectTimeout = 10 * time.Second
		return c
	}
	admin, err := cluster("").CreateSession()
	if err != nil {
		return nil, fmt.Errorf("dial: cassandra %v: %w", hosts, err)
	}
	err = admin.Query(`CREATE KEYSPACE IF NOT EXISTS ` + keyspace +
		` WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`).ExecContext(ctx)
	admin.Close()
	if err != nil {
		return nil, fmt.Errorf("dial: create keyspace %s: %w", keyspace, err)
	}
	sess, err := cluster(keyspace).CreateSession()
	if err != nil {
		return nil, fmt.Errorf("dial: cassandra keyspace %s: %w", keyspace, err)
	}
	return sess, nil
}

// ValidKeyspace reports whether s can be used unquoted as a keyspace name
// by this package: 1 to 48 ASCII letters, digits and underscores.
func ValidKeyspace(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// CreateTopic creates a Kafka topic with the given partitions (replication
// factor 1) unless it exists. Its connections are closed before it returns.
func CreateTopic(ctx context.Context, brokers []string, topic string, partitions int) error {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("dial: create topic %s: %w", topic, err)
	}
	return nil
}
