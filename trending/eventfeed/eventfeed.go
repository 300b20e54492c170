package eventfeed

import (
	"context"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/trending"
)

// RegionHeader is the message header that names the region of a text.
const RegionHeader = "region"

// Options configure Handler. A nil *Options selects the defaults.
type Options struct {
	// Text returns the text of a message. Nil means the message's value.
	Text func(m *events.Message) string
	// Region returns the region of a message. Nil means the value of the
	// RegionHeader header, or "" without one.
	Region func(m *events.Message) string
	// Now stamps messages without a time. Nil means time.Now.
	Now func() time.Time
}

// Handler returns an events.Handler that counts each message's text in t
// at the message's time (Message.Time). Region overflow
// (trending.ErrTooManyRegions) is not an error: the text still counts
// globally.
func Handler(t *trending.Tracker, opts *Options) events.Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Text == nil {
		o.Text = func(m *events.Message) string { return string(m.Value) }
	}
	if o.Region == nil {
		o.Region = func(m *events.Message) string {
			v, _ := m.Header(RegionHeader)
			return string(v)
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return func(ctx context.Context, m *events.Message) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := m.Time
		if at.IsZero() {
			at = o.Now()
		}
		_ = t.ObserveAt(o.Region(m), o.Text(m), at)
		return nil
	}
}
