package wsregistry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// RouterOptions configures a [Router]. The zero value is valid.
type RouterOptions struct {
	// MaxBody is the largest message body in bytes. Zero means 64 KiB.
	MaxBody int

	// ResyncLimit is the page size of [Router.Resync] when its limit is
	// 0. Zero means 500.
	ResyncLimit int

	// NewID returns the ID of a message sent without one. Nil means 128
	// random bits in hex.
	NewID func() string

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Logger receives a debug record per failed push. Nil discards them.
	Logger *slog.Logger
}

// RouterStats counts what a [Router] did.
type RouterStats struct {
	Sent        uint64 // messages stored in the inbox by Send
	Pushed      uint64 // deliveries handed to a host
	PushErrors  uint64 // deliveries that failed (the message stays in the inbox)
	Offline     uint64 // sends that found no live connection (after a refresh, if the first answer was stale)
	StaleLookup uint64 // lookups proved stale by a delivery, then refreshed
	Acked       uint64 // acknowledgements applied
}

// Router delivers messages: it stores each one in the recipient's inbox,
// then pushes it to the hosts that hold the recipient's sockets. A Router
// is safe for concurrent use.
type Router struct {
	reg   *Registry
	inbox Inbox
	seq   Sequencer
	tr    Transport
	opts  RouterOptions

	sent, pushed, pushErrors, offline, stale, acked atomic.Uint64
}

// NewRouter returns a Router over the registry, the inbox, the sequencer
// and the host-to-host transport.
func NewRouter(reg *Registry, inbox Inbox, seq Sequencer, tr Transport, opts *RouterOptions) (*Router, error) {
	switch {
	case reg == nil:
		return nil, &InputError{Op: "new router", Field: "registry", Reason: "nil"}
	case inbox == nil:
		return nil, &InputError{Op: "new router", Field: "inbox", Reason: "nil"}
	case seq == nil:
		return nil, &InputError{Op: "new router", Field: "sequencer", Reason: "nil"}
	case tr == nil:
		return nil, &InputError{Op: "new router", Field: "transport", Reason: "nil"}
	}
	var o RouterOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBody < 0 || o.ResyncLimit < 0 {
		return nil, &InputError{Op: "new router", Field: "options", Reason: "negative limit"}
	}
	if o.MaxBody == 0 {
		o.MaxBody = 64 << 10
	}
	if o.ResyncLimit == 0 {
		o.ResyncLimit = 500
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Router{reg: reg, inbox: inbox, seq: seq, tr: tr, opts: o}, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Send delivers m to m.To and returns it with Seq, At and (if empty) ID
// set. In order, it:
//
//  1. takes the next sequence number of m.Conv from the [Sequencer];
//  2. appends the message to the recipient's [Inbox] and waits until it
//     is stored;
//  3. looks the recipient up and hands the message to each host holding
//     one of their sockets; a delivery that reports the host gone or the
//     recipient absent drops the cached answer, and the hosts of a fresh
//     lookup are tried once.
//
// Storing before looking up is what makes the race of a recipient who
// comes online during the send harmless: a client registers before it
// resyncs, so either the lookup sees the new socket and pushes, or the
// message was stored before the client's resync read the inbox. Failed
// pushes are counted, not returned: once stored the message is sent, and
// reaches the client on its next resync. Send returns an error only if
// the message was not stored.
func (r *Router) Send(ctx context.Context, m Message) (Message, error) {
	if err := r.checkMessage(&m); err != nil {
		return Message{}, err
	}
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	seq, err := r.seq.Next(ctx, m.Conv)
	if err != nil {
		return Message{}, err
	}
	m.Seq = seq
	m.At = r.opts.Now().UTC().Truncate(time.Millisecond) // what every inbox keeps
	if err := r.inbox.Append(ctx, m); err != nil {
		return Message{}, err
	}
	r.sent.Add(1)
	r.push(ctx, m)
	return m, nil
}

func (r *Router) checkMessage(m *Message) error {
	for _, f := range []struct{ name, v string }{{"conv", m.Conv}, {"from", m.From}, {"to", m.To}} {
		if err := checkName("send", f.name, f.v); err != nil {
			return err
		}
	}
	if m.From == m.To {
		return &InputError{Op: "send", Field: "to", Reason: "same as from"}
	}
	if m.Seq != 0 {
		return &InputError{Op: "send", Field: "seq", Reason: "set by the caller; the router assigns it"}
	}
	if len(m.Body) > r.opts.MaxBody {
		return &TooLargeError{Size: len(m.Body), Max: r.opts.MaxBody}
	}
	if m.ID == "" {
		m.ID = r.opts.NewID()
	} else if err := checkName("send", "id", m.ID); err != nil {
		return err
	}
	if m.Kind == "" {
		m.Kind = "text"
	} else if err := checkName("send", "kind", m.Kind); err != nil {
		return err
	}
	return nil
}

// push hands m to every host holding the recipient, refreshing the lookup
// once when a delivery proves it stale.
func (r *Router) push(ctx context.Context, m Message) {
	conns, err := r.reg.Lookup(ctx, m.To)
	if err != nil {
		r.pushErrors.Add(1)
		r.opts.Logger.Debug("wsregistry: lookup", "to", m.To, "err", err)
		return
	}
	if len(conns) == 0 {
		r.offline.Add(1)
		return
	}
	done := make(map[string]bool, len(conns))
	stale := r.deliver(ctx, m, conns, done)
	if !stale {
		return
	}
	r.stale.Add(1)
	r.reg.Invalidate(m.To)
	conns, err = r.reg.LookupFresh(ctx, m.To)
	if err != nil {
		r.pushErrors.Add(1)
		return
	}
	if len(conns) == 0 {
		r.offline.Add(1)
		return
	}
	r.deliver(ctx, m, conns, done)
}

// deliver hands m once to each host of conns not in done, marking the
// hosts it tried, and reports whether a delivery proved the lookup stale.
func (r *Router) deliver(ctx context.Context, m Message, conns []Conn, done map[string]bool) (stale bool) {
	for _, c := range conns {
		if done[c.Host] {
			continue
		}
		done[c.Host] = true
		err := r.tr.Deliver(ctx, c.Host, m)
		if err == nil {
			r.pushed.Add(1)
			continue
		}
		r.pushErrors.Add(1)
		r.opts.Logger.Debug("wsregistry: deliver", "host", c.Host, "to", m.To, "err", err)
		if errors.Is(err, ErrHostGone) || errors.Is(err, ErrNotConnected) {
			stale = true
		}
	}
	return stale
}

// Resync returns the messages in user's inbox that the client may have
// missed: those of each conversation with a sequence above after[conv]
// (all of them for conversations not in after), in (Conv, Seq) order, at
// most limit (0 means RouterOptions.ResyncLimit). The client sends, per
// conversation, the highest sequence up to which it has every message
// ([Client.After]), which is also a cumulative acknowledgement: messages
// at or below it still in the inbox (their acks were lost) are deleted.
// Since acknowledged messages leave the inbox, the client acknowledges
// what it received and calls again until fewer than limit come back. A
// position for a conversation that has no messages, or
// beyond its last sequence, returns a [*ConversationError].
//
// A reconnecting client must [Registry.Register] before it resyncs.
func (r *Router) Resync(ctx context.Context, user string, after map[string]uint64, limit int) ([]Message, error) {
	if err := checkName("resync", "user", user); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, &InputError{Op: "resync", Field: "limit", Reason: "negative"}
	}
	if limit == 0 {
		limit = r.opts.ResyncLimit
	}
	if err := r.checkPositions(ctx, after); err != nil {
		return nil, err
	}
	var out []Message
	pos := Position{}
	cleared := make(map[string]bool)
	for len(out) < limit {
		page, err := r.inbox.Scan(ctx, user, pos, limit)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.Seq > after[m.Conv] {
				out = append(out, m)
				if len(out) == limit {
					break
				}
				continue
			}
			// The client holds every message of m.Conv up to after:
			// this one was delivered and its ack was lost. Collect it
			// and everything else the client already holds.
			if !cleared[m.Conv] {
				if err := r.inbox.Delete(ctx, user, m.Conv, 1, after[m.Conv]); err != nil {
					return nil, err
				}
				cleared[m.Conv] = true
				r.acked.Add(1)
			}
			pos = Position{Conv: m.Conv, Seq: after[m.Conv]}
		}
		if len(page) < limit {
			break
		}
		if last := page[len(page)-1]; last.Seq > pos.Seq || last.Conv != pos.Conv {
			pos = Position{Conv: last.Conv, Seq: last.Seq}
		}
	}
	return out, nil
}

// Ack records that user's client received the message (conv, seq) and
// removes it from the inbox. Acknowledging a message twice, or one that
// was never addressed to user, changes nothing. A conversation with no
// messages, or a sequence beyond its last, returns a [*ConversationError].
func (r *Router) Ack(ctx context.Context, user, conv string, seq uint64) error {
	if err := checkName("ack", "user", user); err != nil {
		return err
	}
	if err := checkName("ack", "conv", conv); err != nil {
		return err
	}
	if seq == 0 {
		return &InputError{Op: "ack", Field: "seq", Reason: "zero"}
	}
	if err := r.checkSeq(ctx, "ack", conv, seq); err != nil {
		return err
	}
	if err := r.inbox.Delete(ctx, user, conv, seq, seq); err != nil {
		return err
	}
	r.acked.Add(1)
	return nil
}

// checkPositions validates resync positions: names, and no position
// beyond its conversation's last sequence, in one call to the sequencer
// when it is a [BatchSequencer].
func (r *Router) checkPositions(ctx context.Context, after map[string]uint64) error {
	convs := make([]string, 0, len(after))
	for conv, seq := range after {
		if err := checkName("resync", "conv", conv); err != nil {
			return err
		}
		if seq > 0 {
			convs = append(convs, conv)
		}
	}
	bs, ok := r.seq.(BatchSequencer)
	if !ok || len(convs) < 2 {
		for _, conv := range convs {
			if err := r.checkSeq(ctx, "resync", conv, after[conv]); err != nil {
				return err
			}
		}
		return nil
	}
	last, err := bs.LastMany(ctx, convs)
	if err != nil {
		return err
	}
	if len(last) != len(convs) {
		return fmt.Errorf("wsregistry: resync: sequencer returned %d values for %d conversations", len(last), len(convs))
	}
	for i, conv := range convs {
		if after[conv] > last[i] {
			return &ConversationError{Op: "resync", Conv: conv, Seq: after[conv], Last: last[i]}
		}
	}
	return nil
}

func (r *Router) checkSeq(ctx context.Context, op, conv string, seq uint64) error {
	last, err := r.seq.Last(ctx, conv)
	if err != nil {
		return err
	}
	if seq > last {
		return &ConversationError{Op: op, Conv: conv, Seq: seq, Last: last}
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (r *Router) Stats() RouterStats {
	return RouterStats{
		Sent: r.sent.Load(), Pushed: r.pushed.Load(), PushErrors: r.pushErrors.Load(),
		Offline: r.offline.Load(), StaleLookup: r.stale.Load(), Acked: r.acked.Load(),
	}
}
