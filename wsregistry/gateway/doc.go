// Package gateway implements the websocket edge of a chat or push system:
// the process that holds clients' long-lived connections, the "Web Socket
// Handler" of the classic chat design. A [Gateway] authenticates each
// request before the upgrade, then runs the connection for a [Handler]:
//
//   - Authentication: an [Authenticator] turns the request into an
//     [Identity] (user and device) or refuses it with 401 before any
//     upgrade. [Tokens] is one: HMAC-SHA256 signed tokens with an expiry,
//     read from the "token" query parameter or an Authorization: Bearer
//     header, compared in constant time.
//   - Reads: one goroutine per connection reads messages and calls
//     Handler.Message in order. A message over Options.MaxMessageBytes
//     closes the connection with 1009, a binary message where text is
//     expected with 1003, and a client sending faster than its token bucket
//     (Options.Rate, Options.Burst) with [CloseRateLimited]. A handler closes
//     a connection whose content it cannot parse by returning
//     [CloseWith]([CloseInvalidPayload], ...).
//   - Writes: [Conn.Send] never blocks. It appends to a bounded queue that a
//     writer goroutine drains; the writer exists only while there is
//     something to write. When the queue is full the client is too slow:
//     Send returns [ErrQueueFull] and the connection is closed with
//     [CloseQueueFull], so one slow client never holds up the others.
//   - Heartbeats: every Options.PingInterval the gateway pings each
//     connection; a peer that does not answer within Options.PongTimeout is
//     dropped ([ErrPongTimeout]), which frees the sockets of vanished
//     clients that TCP alone would keep for minutes.
//   - Drain: [Gateway.Shutdown] refuses new connections, writes what is
//     queued, closes every connection with 1001 going away so clients
//     reconnect elsewhere, and waits for the handlers.
//
// Guarantees: messages to one connection are written in Send order; each
// Send that returned nil is written unless the connection ends first
// (queue overflow, rate limit, dead peer, network error, or a Shutdown whose
// context expires). Delivery is not acknowledged: a message written to the
// socket may still be lost with the connection, so at-least-once delivery
// needs acknowledgements above this package (see the parent wsregistry).
//
// An idle connection costs one goroutine, the websocket's read and write
// buffers and a timer; bench/chat/conns measures it.
//
// The package depends on github.com/coder/websocket and nothing else of
// sysblocks.
package gateway
