// Package lastseen carries last-seen updates of package wsregistry
// through the events block (Kafka in production) into a
// wsregistry.LastSeenStore (Cassandra in production, through
// wsregistry/cqlstore), as the chat design notes route them: gateways
// publish, a consumer group writes.
//
// Gateways set wsregistry.Options.OnSeen to [Hook] on an
// events.BatchPublisher: heartbeats are frequent and a dropped update is
// superseded by the next one, so the lossy, never-blocking publisher is
// the right path. A consumer runs an events.Subscriber with [Consumer.Handle].
// Updates are keyed by user, so one user's updates stay in order on one
// partition; the store keeps the latest time anyway, so redeliveries and
// reordering are harmless.
//
// The wire form ([Encode], [Decode]) is the user as the key and the time
// as decimal Unix milliseconds as the value.
package lastseen
