package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/wsregistry"
)

// groupEvent is a group message on the Kafka topic, keyed by group.
type groupEvent struct {
	ID    string  `json:"id"`
	Group string  `json:"group"`
	From  string  `json:"from"`
	Kind  string  `json:"kind"`
	Body  payload `json:"body"`
	At    int64   `json:"at"`
}

// GroupFanout is the group message handler of the design notes: it
// consumes group messages from Kafka, looks the members up in the group
// service (through its cache) and sends the message to every member but
// the sender through the Router, each into the member's stream of the
// group. It is safe for concurrent use.
//
// Delivery is at least once: a message redelivered by Kafka is sent again
// with the same ID, and clients drop it by ID.
type GroupFanout struct {
	dir    *Directory
	router *wsregistry.Router
	log    *slog.Logger
	sent   atomic.Int64
	bad    atomic.Int64
}

// NewGroupFanout returns a GroupFanout. logger may be nil.
func NewGroupFanout(dir *Directory, router *wsregistry.Router, logger *slog.Logger) *GroupFanout {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &GroupFanout{dir: dir, router: router, log: logger}
}

// Handle is the events.Handler: it returns an error (so the message is
// retried) only when a member's copy could not be stored.
func (g *GroupFanout) Handle(ctx context.Context, em *events.Message) error {
	var ev groupEvent
	if err := json.Unmarshal(em.Value, &ev); err != nil || !ValidID(ev.ID) || !ValidName(ev.Group) || !ValidName(ev.From) {
		g.bad.Add(1)
		g.log.Warn("group fanout: malformed event dropped", "offset", em.Offset, "err", err)
		return nil // a poison message must not stop the partition
	}
	members, err := g.dir.Members(ctx, ev.Group)
	if err != nil {
		return fmt.Errorf("chat: fanout %s: %w", ev.ID, err)
	}
	body, _ := json.Marshal(ev.Body)
	for _, m := range members {
		if m == ev.From {
			continue
		}
		if _, err := g.router.Send(ctx, wsregistry.Message{ID: ev.ID, Conv: GroupConv(ev.Group, m), From: ev.From, To: m,
			Kind: ev.Kind, Body: body}); err != nil {
			return fmt.Errorf("chat: fanout %s to %s: %w", ev.ID, m, err)
		}
		g.sent.Add(1)
	}
	return nil
}

// Stats returns the copies sent and the malformed events dropped.
func (g *GroupFanout) Stats() (sent, dropped int64) { return g.sent.Load(), g.bad.Load() }
