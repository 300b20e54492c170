// Package chat implements the chat application of the design notes
// (WhatsApp, Messenger): one-to-one and group chat over websockets with
// sent, delivered and read receipts, last seen, and media stored once per
// content hash, served by several gateway hosts that share a connection
// registry and an offline inbox.
//
// # Blocks wired
//
//   - wsregistry: the Registry records which gateway host holds each
//     user's sockets (leases renewed by Service.Run); the Router stores
//     every message in the recipient's inbox before pushing it to the
//     recipient's hosts, and serves acknowledgements and resyncs;
//     wsregistry/gateway runs the sockets (token check before the upgrade,
//     size and rate limits, bounded send queues, drain on shutdown).
//   - events: group messages are published to a topic keyed by group;
//     GroupFanout, in a consumer group that spans the gateways, looks the
//     members up and sends a copy to each member but the sender through
//     the Router. Last-seen updates travel the same way (wsregistry/lastseen).
//   - cache: the Directory (user service and group service, Store on
//     MariaDB or memory) reads member lists and user existence through a
//     cache-aside cache (Redis in the real setup); membership changes
//     invalidate it.
//   - gocloud.dev/blob: Media keeps uploads under the hex SHA-256 of their
//     bytes, so the same image uploaded twice is stored once; the content
//     type is sniffed, and only images, audio and video are accepted.
//
// # Conversations and order
//
// Every conversation is one recipient's stream: DirectConv(recipient, peer)
// carries what peer sends to recipient, messages and receipts alike, and
// GroupConv(group, recipient) what the group's members send to recipient.
// A stream has a single reader, so its sequence numbers have no holes made
// by other readers, and a client's position in each stream (the highest
// sequence up to which it has everything) is exact; after a reconnect it
// sends these positions in a "resync" frame and receives what it has not
// acknowledged. Message IDs are chosen by the sending client and kept when
// it resends after a failover, so the recipient drops copies by ID.
//
// # Guarantees and limits
//
// A message confirmed with a "sent" frame is in the recipient's inbox and
// reaches the recipient at least once: pushed if a socket is registered,
// otherwise on the recipient's next resync, whatever gateway dies in
// between. Group messages are confirmed once Kafka has them; the fan-out
// is at least once, with the same ID for every copy. Receipts are messages
// too, so they survive the same failures. Not provided: exactly-once
// delivery without client deduplication, order across conversations,
// copies of a user's own messages to their other devices, end-to-end
// encryption, and deletion of media.
//
// # Bad input
//
// Tokens are checked before the upgrade (401). A frame over MaxFrame closes
// the socket with 1009, a frame that is not JSON with 1007, a client over
// its rate limit with 4029; a frame that is JSON but breaks the protocol
// (ParseFrame), a text over MaxText, an unknown recipient or a group the
// sender is not in gets an "error" frame, changes nothing, and the socket
// stays open.
//
// Adapters of the Directory's Store: memstore (memory) and sqlstore
// (MariaDB); storetest is their conformance suite.
package chat
