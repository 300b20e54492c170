// Package wsregistry implements the connection registry and message
// router of a chat system (WhatsApp, Messenger): which gateway host holds
// each user's websockets, delivery of a message to those hosts or to an
// offline inbox, acknowledgements, resync on reconnect, presence and last
// seen.
//
// # The problem
//
// In the design notes each user's sockets live on one of many "web socket
// handler" hosts; a "web socket manager" backed by Redis records which
// host holds whom, and each host caches that answer for a short time
// because devices move between hosts often. A message for a user with no
// socket goes to Cassandra and is fetched when the user comes back. The
// notes name a race: the recipient comes online while the sender, having
// found no socket, is still storing the message offline; the recipient
// reads its empty inbox, the message lands after, and nobody delivers it.
//
// # The design
//
// [Registry] holds leases: [Registry.Register] puts (user, device) on a
// host until now+Lease, [Registry.Heartbeat] extends a lease the host still
// holds, [Registry.Unregister] removes it, and [Registry.Lookup] returns the
// live connections. Expiry is a predicate: a lease is live while Expires >
// now, and no store ever returns an expired lease, whether or not it has
// deleted it yet. Lookups go through a local cache with a short TTL; only
// non-empty answers are cached, and an answer is dropped when a delivery
// proves it stale (the host is gone, or says the user is not there).
//
// [Router.Send] stores first, then forwards. It takes the conversation's
// next sequence number from a [Sequencer], appends the message to the
// recipient's [Inbox] and waits until it is stored, and only then looks the
// recipient up and hands the message to their hosts through a
// [Transport]. A (re)connecting client registers first and then calls
// [Router.Resync] with its last sequence per conversation. Whatever the
// interleaving, either the sender's lookup comes after the registration and
// pushes, or the append came before it and so before the resync's read:
// the notes' race loses nothing, without long polling. Tests force both
// interleavings.
//
// Delivery is at least once. A message stays in the inbox until the
// recipient acknowledges it ([Router.Ack], one message at a time); pushes
// may be lost (a host crashes, a socket drops, pub/sub drops while a
// subscription reconnects) and are recovered by the next resync; a
// message may arrive twice (push and resync, or a sender retrying with
// the same ID), so clients deduplicate by ID ([Client]). As in
// centrifuge's history recovery, the client names its position in each
// stream and the server sends what follows; here the stream is the
// recipient's unacknowledged inbox, which is complete by construction, so
// recovery never has to report a gap the way centrifuge does when its
// bounded history (or its epoch) no longer covers the client's offset.
// Sequence numbers are per conversation and shared by its members: a
// client counts the messages it received and those it sent ([Client.Sent])
// and sends, per conversation, the highest sequence up to which it has
// them all ([Client.After]). That position is also a cumulative
// acknowledgement: Resync deletes what the inbox still holds at or below
// it (deliveries whose acks were lost). A sequence number taken by a send
// that then failed leaves a gap where the client's position stops; it
// keeps working, since everything above it that the client acknowledged
// has left the inbox.
//
// Presence is a lookup; last seen is a [LastSeenStore], fed through
// Options.OnSeen, which package wsregistry/lastseen wires to Kafka (the
// events block) and on to Cassandra, as in the notes.
//
// # Host to host
//
// Transports: memstore.Transport in process, and wsregistry/redisbus over
// Redis pub/sub (one channel per host). Redis pub/sub was chosen over
// direct HTTP between gateways because gateways already share Redis and
// need no addresses of each other; PUBLISH reports how many subscribers
// received the message, which gives [ErrHostGone] for a host that is
// down. It is fire-and-forget otherwise: a lost push is recovered by the
// inbox.
//
// # What it does not guarantee
//
// Exactly-once delivery, and push latency for a second device that
// registered on another host less than CacheTTL ago while this host had a
// cached answer (its resync after registering returns everything stored
// until then; later messages reach it on its next resync or when the cache
// entry ends). Order across conversations. Safety when the [Sequencer]
// loses its state: sequences must never go backwards (run Redis with
// append-only persistence), because a client's position is also an
// acknowledgement. A position beyond a conversation's last sequence is
// refused with a [*ConversationError] and deletes nothing; the client
// then drops its position for that conversation and resyncs from 0 (its
// deduplication absorbs the repeats), as a centrifuge client does when the
// stream's epoch changed.
//
// # Adapters
//
//   - memstore: registry, inbox, sequencer, transport and last seen in
//     memory, for tests and single-process programs.
//   - redisstore: registry (a hash per user and a lease sorted set per
//     user, one Lua script per operation) and sequencer (INCR) on Redis.
//   - cqlstore: inbox (partition by recipient, clustering by conversation
//     and sequence) and last seen on Cassandra.
//   - redisbus: host-to-host transport over Redis pub/sub.
//   - lastseen: last-seen updates through the events block (Kafka) into a
//     [LastSeenStore].
//   - storetest: conformance suites every adapter runs.
package wsregistry
