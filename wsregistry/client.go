package wsregistry

import "sync"

// Client is the receiving side's bookkeeping, for a client application or
// for tests that model one: it deduplicates messages by ID and computes
// the resync position of each conversation. Delivery is at least once (a
// push and a resync may both carry a message, and a sender that retries
// with the same ID stores it twice), so a client must deduplicate. A
// Client is safe for concurrent use.
type Client struct {
	mu      sync.Mutex
	after   map[string]uint64          // per conversation: every seq <= after is known
	above   map[string]map[uint64]bool // known seqs above after
	ids     map[string]bool
	ring    []string // the remembered IDs, oldest first once full
	next    int
	maxSeen int
}

// NewClient returns a Client that remembers the last rememberIDs message
// IDs for deduplication. Zero means 10000.
func NewClient(rememberIDs int) *Client {
	if rememberIDs <= 0 {
		rememberIDs = 10000
	}
	return &Client{
		after: make(map[string]uint64), above: make(map[string]map[uint64]bool),
		ids: make(map[string]bool), maxSeen: rememberIDs,
	}
}

// Accept records a received message and reports whether it is new: false
// for a message whose ID was seen before. The caller shows new messages,
// and acknowledges every message, new or not.
func (c *Client) Accept(m Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mark(m.Conv, m.Seq)
	if c.ids[m.ID] {
		return false
	}
	c.ids[m.ID] = true
	if len(c.ring) < c.maxSeen {
		c.ring = append(c.ring, m.ID)
	} else {
		delete(c.ids, c.ring[c.next])
		c.ring[c.next] = m.ID
		c.next = (c.next + 1) % c.maxSeen
	}
	return true
}

// Sent records the sequence of a message this client sent (the one
// [Router.Send] returned): the conversation's sequence is shared by all
// its members, so a client's own messages fill gaps in what it receives.
func (c *Client) Sent(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mark(m.Conv, m.Seq)
}

func (c *Client) mark(conv string, seq uint64) {
	if seq <= c.after[conv] {
		return
	}
	set := c.above[conv]
	if set == nil {
		set = make(map[uint64]bool)
		c.above[conv] = set
	}
	set[seq] = true
	a := c.after[conv]
	for set[a+1] {
		delete(set, a+1)
		a++
	}
	c.after[conv] = a
	if len(set) == 0 {
		delete(c.above, conv)
	}
}

// After returns, per conversation, the highest sequence up to which the
// client knows every message: the argument of [Router.Resync].
func (c *Client) After() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.after))
	for k, v := range c.after {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}
