package events

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters wrap them with %w; match them with [errors.Is].
var (
	// ErrClosed is returned by a [Member] after Close, and by anything
	// used after the resource it needs was closed.
	ErrClosed = errors.New("events: closed")

	// ErrNoTopic is returned when a message has no topic and no default
	// topic was configured.
	ErrNoTopic = errors.New("events: message has no topic")

	// ErrNoGroup is returned when a receiver is asked for a consumer group
	// with an empty name.
	ErrNoGroup = errors.New("events: no consumer group")

	// ErrTopicExists is returned when creating a topic that already exists.
	ErrTopicExists = errors.New("events: topic exists")

	// ErrBadPartition is returned for a partition count below one or a
	// partition number outside a topic.
	ErrBadPartition = errors.New("events: bad partition")

	// ErrQueueFull is returned by [BatchPublisher.Publish] when its queue
	// is full and the message was dropped.
	ErrQueueFull = errors.New("events: queue full, message dropped")

	// ErrRunning is returned by Run when the same value is already running.
	ErrRunning = errors.New("events: already running")

	// ErrHandler matches every [*HandlerError]: a handler kept failing for
	// one message until [SubscriberOptions.MaxAttempts] ran out.
	ErrHandler = errors.New("events: handler failed")
)

// HandlerError is returned by [Subscriber.Run] when the handler failed
// [SubscriberOptions.MaxAttempts] times in a row for one message. The
// message was not committed, so the group receives it again.
type HandlerError struct {
	Topic     string
	Partition int
	Offset    int64
	Attempts  int
	Err       error // the handler's last error
}

// Error implements error.
func (e *HandlerError) Error() string {
	return fmt.Sprintf("events: handler failed %d times on %s/%d@%d: %v",
		e.Attempts, e.Topic, e.Partition, e.Offset, e.Err)
}

// Unwrap returns the handler's last error.
func (e *HandlerError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrHandler].
func (e *HandlerError) Is(target error) bool { return target == ErrHandler }
