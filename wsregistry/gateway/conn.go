package gateway

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Conn is one client connection of a [Gateway]. Its methods are safe for
// concurrent use.
//
// A Conn holds one goroutine while it is open (the reader, which runs the
// [Handler]); a writer goroutine exists only while messages are queued, and
// a heartbeat goroutine only while a ping is in flight.
type Conn struct {
	g     *Gateway
	ws    *websocket.Conn
	id    string
	ident Identity

	mu      sync.Mutex
	queue   []outMsg // queue[head:] waits to be written
	head    int
	writing bool // a writer goroutine is running
	closing bool // no more Sends; the writer closes the websocket when done
	flush   bool // while closing: write the queue before the close frame
	code    int
	reason  string
	cause   error
	workers sync.WaitGroup // writer and heartbeat
	ping    *time.Timer

	// Reader-only state: the token bucket.
	tokens float64
	last   time.Time
}

type outMsg struct {
	data   []byte
	binary bool
}

// ID returns the connection's identifier, unique within its Gateway.
func (c *Conn) ID() string { return c.id }

// Identity returns who the connection was authenticated as.
func (c *Conn) Identity() Identity { return c.ident }

// Send queues a text message for the client and returns without waiting for
// the network. Send keeps data until it is written: do not modify it after
// the call (one slice may be sent to many connections). If the queue already
// holds Options.QueueSize messages, the connection is closed with
// [CloseQueueFull] and Send returns [ErrQueueFull]; a slow client never
// blocks the sender. After the connection started closing Send returns [ErrClosed].
func (c *Conn) Send(data []byte) error { return c.send(outMsg{data: data}) }

// SendBinary is [Conn.Send] for a binary message.
func (c *Conn) SendBinary(data []byte) error { return c.send(outMsg{data: data, binary: true}) }

func (c *Conn) send(m outMsg) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue)-c.head >= c.g.o.QueueSize {
		c.mu.Unlock()
		if c.end(ErrQueueFull, CloseQueueFull, "send queue full", false) {
			c.g.dropped.Add(1)
		}
		return ErrQueueFull
	}
	if c.head > 0 && len(c.queue) == cap(c.queue) {
		// Reuse the slots already written instead of growing the array.
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue, c.head = c.queue[:n], 0
	}
	c.queue = append(c.queue, m)
	c.startWriterLocked()
	c.mu.Unlock()
	return nil
}

// Close closes the connection with code and reason after the messages
// already queued are written. It returns at once; [Handler.Close] follows
// when the close handshake is over. It returns [ErrInvalidCloseCode] for a
// code that cannot be sent (1004-1006, 1012-2999, >= 5000) or a reason over
// 123 bytes, and [ErrClosed] if the connection is already closing.
func (c *Conn) Close(code int, reason string) error {
	if !validCloseCode(code) || len(reason) > 123 {
		return ErrInvalidCloseCode
	}
	if !c.end(&CloseError{Code: code, Reason: reason}, code, reason, true) {
		return ErrClosed
	}
	return nil
}

// end starts closing the connection unless it is already closing, and
// reports whether it did. cause goes to Handler.Close. flush writes the
// queued messages before the close frame; otherwise they are dropped.
func (c *Conn) end(cause error, code int, reason string, flush bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.closing, c.flush = true, flush
	c.code, c.reason, c.cause = code, reason, cause
	if !flush {
		clear(c.queue)
		c.queue, c.head = nil, 0
	}
	c.startWriterLocked()
	return true
}

// startWriterLocked starts the writer goroutine if none runs.
func (c *Conn) startWriterLocked() {
	if c.writing {
		return
	}
	c.writing = true
	c.workers.Add(1)
	go c.write()
}

// write drains the queue, then, if the connection is closing, sends the
// close frame; it exits as soon as there is nothing left to do.
func (c *Conn) write() {
	defer c.workers.Done()
	for {
		c.mu.Lock()
		if c.head < len(c.queue) && (!c.closing || c.flush) {
			m := c.queue[c.head]
			c.queue[c.head] = outMsg{}
			c.head++
			if c.head == len(c.queue) {
				c.queue, c.head = c.queue[:0], 0
			}
			c.mu.Unlock()
			if err := c.writeMsg(m); err != nil {
				c.end(err, CloseInternalError, "", false)
				c.ws.CloseNow()
			}
			continue
		}
		if !c.closing {
			c.writing = false
			c.mu.Unlock()
			return
		}
		code, reason := c.code, c.reason
		c.queue, c.head = nil, 0
		c.mu.Unlock()
		if code == 0 {
			c.ws.CloseNow()
		} else {
			c.ws.Close(websocket.StatusCode(code), reason)
		}
		return // c.writing stays true: no writer starts after the close
	}
}

func (c *Conn) writeMsg(m outMsg) error {
	g := c.g
	typ := websocket.MessageText
	if m.binary {
		typ = websocket.MessageBinary
	}
	// The timeout records its cause before the cancellation closes the
	// socket, so that Handler.Close learns why rather than that the reader
	// found the socket closed.
	ctx, cancel := context.WithCancel(context.Background())
	t := time.AfterFunc(g.o.WriteTimeout, func() {
		if c.end(ErrWriteTimeout, 0, "", false) {
			g.writeTimeout.Add(1)
		}
		cancel()
	})
	err := c.ws.Write(ctx, typ, m.data)
	t.Stop()
	cancel()
	if err == nil {
		g.messagesOut.Add(1)
	}
	return err
}

// heartbeat pings the peer; an unanswered ping drops the connection.
func (c *Conn) heartbeat() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.workers.Add(1)
	c.mu.Unlock()
	defer c.workers.Done()
	g := c.g
	ctx, cancel := context.WithCancel(context.Background())
	t := time.AfterFunc(g.o.PongTimeout, func() {
		if c.end(ErrPongTimeout, 0, "", false) {
			g.pongTimeout.Add(1)
		}
		cancel()
	})
	err := c.ws.Ping(ctx)
	t.Stop()
	cancel()
	if err != nil {
		c.end(err, 0, "", false)
		c.ws.CloseNow()
		return
	}
	c.mu.Lock()
	if !c.closing {
		c.ping.Reset(g.o.PingInterval)
	}
	c.mu.Unlock()
}

// allow takes a token from the connection's bucket.
func (c *Conn) allow() bool {
	o := &c.g.o
	if o.Rate < 0 {
		return true
	}
	now := o.Now()
	if d := now.Sub(c.last); d > 0 {
		c.tokens = min(float64(o.Burst), c.tokens+d.Seconds()*o.Rate)
		c.last = now
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// run is the connection's reader: it calls the Handler until the connection
// ends, then waits for the writer and the heartbeat and calls Handler.Close.
func (c *Conn) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	g := c.g
	if g.o.PingInterval > 0 {
		c.mu.Lock()
		c.ping = time.AfterFunc(rand.N(g.o.PingInterval)+1, c.heartbeat)
		c.mu.Unlock()
	}
	code, reason, cause := c.serve(ctx)
	c.end(cause, code, reason, false)
	c.mu.Lock()
	if c.ping != nil {
		c.ping.Stop()
	}
	c.mu.Unlock()
	c.workers.Wait()
	c.ws.CloseNow()
	c.mu.Lock()
	cause = c.cause
	c.mu.Unlock()
	g.open.Add(-1)
	g.o.Logger.Debug("gateway: connection closed", "id", c.id, "user", c.ident.User, "device", c.ident.Device, "cause", cause)
	g.h.Close(c, cause)
}

// serve runs Open and the read loop. It returns the close code and reason
// to send and why the connection should end.
func (c *Conn) serve(ctx context.Context) (code int, reason string, cause error) {
	g := c.g
	if err := g.h.Open(ctx, c); err != nil {
		return handlerErr(err)
	}
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			var wce websocket.CloseError
			if errors.As(err, &wce) {
				return int(wce.Code), wce.Reason, &CloseError{Code: int(wce.Code), Reason: wce.Reason}
			}
			if errors.Is(err, websocket.ErrMessageTooBig) {
				return CloseMessageTooBig, "message too big", &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
			}
			return CloseInternalError, "", err
		}
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing {
			continue // read until the peer answers the close frame
		}
		if !c.allow() {
			g.limited.Add(1)
			return CloseRateLimited, "rate limit exceeded", ErrRateLimited
		}
		if typ == websocket.MessageBinary && !g.o.AllowBinary {
			const reason = "binary messages are not accepted"
			return CloseUnsupportedData, reason, &CloseError{Code: CloseUnsupportedData, Reason: reason}
		}
		g.messagesIn.Add(1)
		if err := g.h.Message(ctx, c, data); err != nil {
			return handlerErr(err)
		}
	}
}

// handlerErr maps a Handler's error to the close code it asks for:
// a *CloseError's own, else CloseInternalError.
func handlerErr(err error) (int, string, error) {
	var ce *CloseError
	if errors.As(err, &ce) && validCloseCode(ce.Code) && len(ce.Reason) <= 123 {
		return ce.Code, ce.Reason, err
	}
	return CloseInternalError, "internal error", err
}
