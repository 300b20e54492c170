// Command svcprobe answers whether a service really works, with a real
// query rather than an open port. scripts/services uses it to wait for Kafka
// and Cassandra.
//
//	svcprobe kafka 127.0.0.1:9092      metadata, create a probe topic, produce to it
//	svcprobe cassandra 127.0.0.1       SELECT release_version FROM system.local
//
// It prints what it learnt and exits 0, or prints the error and exits 1.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/segmentio/kafka-go"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: svcprobe kafka|cassandra ADDRS")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		out string
		err error
	)
	switch os.Args[1] {
	case "kafka":
		out, err = probeKafka(ctx, strings.Split(os.Args[2], ","))
	case "cassandra":
		out, err = probeCassandra(ctx, strings.Split(os.Args[2], ","))
	default:
		err = fmt.Errorf("unknown service %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "svcprobe:", os.Args[1]+":", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

func probeKafka(ctx context.Context, brokers []string) (string, error) {
	const topic = "sysblocks-probe"
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return "", err
	}
	if md.Controller.Host == "" {
		return "", errors.New("no controller yet")
	}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
	}}})
	if err != nil {
		return "", err
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return "", err
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("probe")}); err != nil {
		return "", err
	}
	return fmt.Sprintf("kafka: %d broker(s), controller %d, produced to %s", len(md.Brokers), md.Controller.ID, topic), nil
}

func probeCassandra(ctx context.Context, hosts []string) (string, error) {
	cl := gocql.NewCluster(hosts...)
	cl.Timeout = 5 * time.Second
	cl.ConnectTimeout = 5 * time.Second
	cl.NumConns = 1
	s, err := cl.CreateSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	var v string
	if err := s.Query(`SELECT release_version FROM system.local`).ScanContext(ctx, &v); err != nil {
		return "", err
	}
	return "cassandra: release_version " + v, nil
}
