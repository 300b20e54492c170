// Package events implements publish/subscribe with keys, consumer groups
// and at-least-once delivery: the Kafka backbone of the system-design case
// studies (click analytics in the URL shortener, order and payment events
// in the shop, group messages in chat, the stages of the notification
// pipeline, pings in rides and maps).
//
// # The pieces
//
// A [Message] has a Topic, a Key, a Value, Headers and a Time. Three types
// hold the policy, and each talks to an adapter through a small interface:
//
//   - [Publisher] writes messages and returns once the adapter has stored
//     them (for Kafka, once the broker acknowledged them as the Writer's
//     RequiredAcks asks). It is the reliable path: an error means "maybe
//     not stored", and publishing again may duplicate.
//   - [Subscriber] is one member of a consumer group. It fetches messages
//     of the partitions assigned to it and passes each to a [Handler], and
//     commits the message only after the handler returned nil.
//   - [BatchPublisher] is the lossy path for high-volume data where a few
//     losses are acceptable (the URL shortener's click analytics): Publish
//     appends to a bounded in-memory queue and returns at once, and Run
//     flushes the queue when it holds M records or every T, so the broker
//     sees one request per M records. When the broker is slow or down,
//     Publish still returns at once and drops, and every record is counted
//     as published, failed, dropped or still queued ([BatchStats]).
//
// The adapter interfaces are [Sender] (publishing) and [Receiver] with its
// [Member] (consuming). The adapters live in sub-packages:
//
//   - events/membus: in memory, with Kafka's semantics (partitions by key
//     hash, range assignment of partitions to group members, committed
//     offsets per group, redelivery from them when members join or leave);
//     for tests, examples and single-process programs.
//   - events/kafkabus: Kafka through github.com/segmentio/kafka-go. It uses
//     the caller's *kafka.Writer and kafka.ReaderConfig and dials nothing
//     itself.
//   - events/eventstest: the conformance suite both adapters pass, membus in
//     memory and kafkabus against an in-process kfake broker and a real
//     Kafka 4.1 broker.
//
// # Guarantees
//
// At least once. A message is committed only after its handler returned
// nil. A handler error delivers the same message again after a backoff
// (SubscriberOptions.Backoff), before any later message of its partition;
// after MaxAttempts failures Run returns a [*HandlerError] and the message,
// still uncommitted, goes to the next member. When a member stops, crashes
// or is killed, its partitions go to the remaining members, who start from
// the committed offsets: nothing handled-but-uncommitted is lost, and
// nothing uncommitted is skipped. A crash of the whole process, a SIGKILL
// included, loses nothing on Kafka (the suite kills a member in a child
// process to check it).
//
// Order per key. Messages with the same topic and key go to the same
// partition (Kafka's murmur2 partitioner, see [Partition]), and a
// partition's messages are handled one at a time, in order, however large
// SubscriberOptions.Concurrency is. Messages with different keys have no
// order between them.
//
// Groups. Each consumer group receives every message of the topic; within
// a group each partition belongs to one member at a time, so members share
// the work. A new group starts at the earliest retained message.
//
// # What it does not guarantee
//
// Exactly once. After a handler error, a rebalance or a crash, a message
// may be handled again, so handlers must be idempotent: deduplicate on a
// business key or on (Topic, Partition, Offset), which is the same for
// every delivery of one message. Ordering across keys. Delivery of what a
// [BatchPublisher] had not flushed when its process died. A [Publisher]
// whose Publish returned an error may or may not have stored the messages.
//
// A poison message (one the handler always rejects) stops its partition:
// with MaxAttempts zero the Subscriber retries it forever, with
// MaxAttempts set Run returns and the next member meets it too. Move such
// messages aside in the handler (to a dead-letter topic, say) and return
// nil.
//
// # Commits and their cost
//
// By default each message is committed before the next one of its
// partition is handled, so a crash redelivers at most the messages that
// were being handled; on Kafka this costs one commit round trip per
// message. With SubscriberOptions.CommitInterval set, a background
// goroutine commits instead, at most once per interval, everything handled
// since the previous commit: handlers do not wait, and a crash may
// redeliver what was handled since the last completed commit. A clean stop
// commits everything handled in both modes. bench/events measures both
// against a kafka-go Reader loop doing the same.
//
// # Running
//
// Nothing starts in a constructor. [Subscriber.Run] and
// [BatchPublisher.Run] block until their context ends and then shut down
// cleanly (leave the group; flush what is queued within ShutdownTimeout);
// all goroutines they started have ended when they return. Run them with
// golang.org/x/sync/errgroup or your own goroutines:
//
//	w := kafkabus.NewWriter("127.0.0.1:9092") // Murmur2 keys, acks=all
//	defer w.Close()
//	sender, err := kafkabus.NewSender(w)
//	...
//	clicks := events.NewBatchPublisher(sender, &events.BatchOptions{
//		Topic: "clicks", MaxRecords: 500, MaxDelay: time.Second,
//	})
//	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(brokers, "orders", "billing"))
//	...
//	billing := events.NewSubscriber(recv, handleOrder, nil)
//	g, ctx := errgroup.WithContext(ctx)
//	g.Go(func() error { return clicks.Run(ctx) })
//	g.Go(func() error { return billing.Run(ctx) })
//	// HTTP handlers call clicks.Publish(events.Message{Key: code, Value: v})
//	return g.Wait()
//
// # Performance
//
// BatchPublisher.Publish takes tens of nanoseconds and allocates nothing,
// whether the broker is up, slow or down (benchmarks in this package and
// in kafkabus, against a dead broker address too). Publisher on kafkabus
// writes as fast as a plain kafka-go Writer with the same configuration
// (bench/events measures the ratio in one run).
package events
