// Package kafkabus is the Kafka adapter of [events], on
// github.com/segmentio/kafka-go (v0.4.48 or newer for Kafka 4.x).
//
// [Sender] publishes through a *kafka.Writer the caller builds and owns;
// [NewWriter] returns one set up for events: Kafka's murmur2 partitioner
// (the Java client's default, and the one membus uses), acknowledgement by
// all in-sync replicas, and a short batching delay. [Receiver] builds one
// kafka-go Reader per group member from a kafka.ReaderConfig with a GroupID
// and commits offsets only when told to, so [events.Subscriber] commits
// after the handler succeeds; [NewReaderConfig] returns a config with
// synchronous commits. Neither type dials anything itself: all network
// traffic is kafka-go's.
//
// Kafka's consumer groups do the rest: partitions are shared among the
// members of a group, and when a member leaves or its session times out
// (after a crash, SessionTimeout after its last heartbeat), its partitions
// are reassigned and consumed again from the committed offsets.
package kafkabus
