package events

import "context"

// Sender is the publishing half of an adapter: membus.Bus and
// kafkabus.Sender implement it. [Publisher] and [BatchPublisher] are the
// types applications use; they hold the policy and call a Sender.
//
// Implementations must be safe for concurrent use.
type Sender interface {
	// Send writes msgs to their topics. It must:
	//   - return nil only when every message has been stored as durably as
	//     the adapter is configured to (for Kafka, the Writer's RequiredAcks);
	//   - put messages with the same Topic and Key in the same partition, in
	//     the order of msgs, after the messages of earlier calls that have
	//     returned;
	//   - honour ctx, returning its error once it ends;
	//   - not keep msgs, or the slices in them, after returning.
	// On error any subset of msgs may have been stored; sending again may
	// duplicate them.
	Send(ctx context.Context, msgs []Message) error
}

// Receiver is the consuming half of an adapter, bound to one topic and one
// consumer group: membus.Receiver and kafkabus.Receiver implement it.
// [Subscriber] is the type applications use.
//
// Implementations must be safe for concurrent use.
type Receiver interface {
	// Join adds a new member to the consumer group. The member shares the
	// topic's partitions with the other members; each partition belongs to
	// exactly one member at a time. Join may return before the member is
	// assigned any partition.
	Join(ctx context.Context) (Member, error)
}

// Member is one member of a consumer group.
//
// Fetch is called from one goroutine at a time; Commit may be called
// concurrently with Fetch and with itself; Close may be called at any time,
// and more than once.
type Member interface {
	// Fetch blocks until a message from a partition assigned to the member
	// is available and returns it with Topic, Partition and Offset set. The
	// messages of one partition come in offset order. Whenever partitions
	// are reassigned (a member joins, leaves or dies), delivery of every
	// assigned partition restarts from the group's committed offset, so
	// messages fetched but not committed may come again, here or at another
	// member. A group that has committed nothing for a partition starts at
	// its earliest retained message. Fetch returns ctx's error when ctx
	// ends and an error wrapping [ErrClosed] after Close.
	Fetch(ctx context.Context) (Message, error)

	// Commit records that m and every earlier message of its partition are
	// processed, for the whole group. A commit never loses a message that
	// was not processed by someone, because members process each partition
	// in order; committing an offset lower than the current one may be
	// ignored.
	Commit(ctx context.Context, m Message) error

	// Close leaves the group. Its partitions go to the remaining members,
	// from the committed offsets.
	Close() error
}
