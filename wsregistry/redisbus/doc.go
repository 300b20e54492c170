// Package redisbus implements the host-to-host transport of package
// wsregistry over Redis pub/sub: one channel per gateway host.
//
// [Bus.Deliver] publishes the message on the host's channel; Redis
// answers with the number of subscribers that received it, and zero means
// the host is gone (stopped, crashed, or cut off), which Deliver reports
// as wsregistry.ErrHostGone so that the router drops its cached lookup.
// Pub/sub is fire-and-forget otherwise: a message published while a
// host's subscription is reconnecting is lost, and reaches the client
// from the inbox on its next resync. Gateways already share Redis for the
// registry, so they need no addresses of each other and no extra port.
//
// A host receives with [Bus.Listen], which returns once Redis has
// confirmed the subscription, and [Listener.Run], which passes each
// message to the handler until its context ends.
//
// Messages travel as JSON ([Encode], [Decode]). The bus takes the
// caller's client and never closes it.
package redisbus
