package eventfeed_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/search"
	searchfeed "github.com/sysblocks/sysblocks/search/eventfeed"
	"github.com/sysblocks/sysblocks/trending"
	"github.com/sysblocks/sysblocks/trending/eventfeed"
)

// tweet is one post of the social case study: the search index gets it as
// a change event, and the same event counts its words for trends.
type tweet struct {
	id, text, region string
	at               time.Time
}

// timeline returns tweets of the last two hours and of three hours ago,
// stop words included, and the IDs of tweets deleted afterwards.
func timeline(now time.Time) (tw []tweet, deleted []string) {
	add := func(n int, ago time.Duration, region, format string) {
		for i := range n {
			tw = append(tw, tweet{
				id:     fmt.Sprintf("tw%d", len(tw)),
				text:   fmt.Sprintf(format, i%5),
				region: region,
				at:     now.Add(-ago - time.Duration(i)*time.Minute),
			})
		}
	}
	// In the window (the last two hours).
	add(60, 5*time.Minute, "paris", "Watching the solar #eclipse from the beach with %d friends")
	add(30, 20*time.Minute, "tokyo", "The #eclipse is over, and the sky was amazing at %d")
	add(24, 10*time.Minute, "tokyo", "Go generics are finally here, rewriting my library %d")
	// Older than the window: still searchable, no longer trending.
	add(90, 3*time.Hour, "paris", "The #worldcup final was a thriller, %d goals")
	return tw, []string{"tw0", "tw1", "tw2"}
}

// tweetText is the trending side's view of a change event: the text of a
// created or updated tweet, nothing for a deletion.
func tweetText(m *events.Message) string {
	ev, err := searchfeed.Decode(m)
	if err != nil || ev.Op == search.OpDeleted {
		return ""
	}
	return ev.Doc.Fields["text"]
}

func tweetRegion(m *events.Message) string {
	ev, err := searchfeed.Decode(m)
	if err != nil || len(ev.Doc.Tags["region"]) == 0 {
		return ""
	}
	return ev.Doc.Tags["region"][0]
}

// runTweets publishes the timeline as change events on topic and consumes
// it twice, in two consumer groups: a search feed keeps an index of the
// tweets, and a trending handler counts their words over a two-hour window
// (ten-minute buckets, sketches). The tracker's top terms must equal those
// of an exact tracker fed the same texts directly.
func runTweets(t *testing.T, send events.Sender, topic string, searchRecv, trendRecv events.Receiver) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	clock := func() time.Time { return now }
	opts := func(exact bool) *trending.Options {
		return &trending.Options{Window: 2 * time.Hour, Bucket: 10 * time.Minute, Exact: exact, Now: clock}
	}
	tr, err := trending.New(opts(false))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := trending.New(opts(true))
	ix, err := search.New(nil)
	if err != nil {
		t.Fatal(err)
	}

	tweets, deleted := timeline(now)
	var msgs []events.Message
	for _, tw := range tweets {
		m, err := searchfeed.Encode(topic, search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: tw.id, Version: 1, Fields: map[string]string{"text": tw.text},
			Tags: map[string][]string{"region": {tw.region}}}})
		if err != nil {
			t.Fatal(err)
		}
		m.Time = tw.at
		msgs = append(msgs, m)
		ref.ObserveAt(tw.region, tw.text, tw.at)
	}
	for _, id := range deleted {
		m, err := searchfeed.Encode(topic, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: id, Version: 2}})
		if err != nil {
			t.Fatal(err)
		}
		m.Time = now
		msgs = append(msgs, m)
	}
	if err := events.NewPublisher(send, &events.PublisherOptions{Topic: topic}).Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	feed := searchfeed.New(ix, searchRecv, nil)
	var handled atomic.Int64
	count := eventfeed.Handler(tr, &eventfeed.Options{Text: tweetText, Region: tweetRegion})
	sub := events.NewSubscriber(trendRecv, func(ctx context.Context, m *events.Message) error {
		err := count(ctx, m)
		handled.Add(1)
		return err
	}, nil)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- feed.Run(runCtx) }()
	go func() { done <- sub.Run(runCtx) }()
	deadline := time.Now().Add(90 * time.Second)
	for feed.Stats().Applied < uint64(len(msgs)) || handled.Load() < int64(len(msgs)) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("search applied %d, trending handled %d; want %d each", feed.Stats().Applied, handled.Load(), len(msgs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	// Search: every live tweet, old ones included, typos tolerated;
	// deleted tweets are gone.
	for _, c := range []struct {
		q     string
		total int
	}{
		{"eclpse beach", 60 - len(deleted)},
		{"eclipse", 90 - len(deleted)},
		{"worldcup thriler", 90},
		{"generics libary", 24},
	} {
		r, err := ix.Search(ctx, search.Query{Text: c.q, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != c.total {
			t.Errorf("Search(%q) total %d; want %d", c.q, r.Total, c.total)
		}
		for _, h := range r.Hits {
			if slices.Contains(deleted, h.Doc.ID) {
				t.Errorf("Search(%q) found deleted tweet %s", c.q, h.Doc.ID)
			}
		}
	}

	// Trends: the last two hours only, stop words removed, per region too.
	top := tr.Top("", 50)
	if len(top) == 0 || top[0].Term != "#eclipse" || top[0].Count != 90 {
		t.Fatalf("Top = %v; want #eclipse 90 first", top)
	}
	for _, c := range top {
		if slices.Contains([]string{"the", "from", "with", "is", "and", "was", "at", "are", "my"}, c.Term) {
			t.Errorf("stop word %q in Top %v", c.Term, top)
		}
		if c.Term == "#worldcup" || c.Term == "thriller" {
			t.Errorf("%q from three hours ago in Top %v", c.Term, top)
		}
	}
	if want := ref.Top("", 50); !slices.Equal(terms(top), terms(want)) {
		t.Errorf("Top from the stream = %v; want %v (exact, fed directly)", top, want)
	}
	for _, region := range []string{"paris", "tokyo"} {
		got, want := tr.Top(region, 5), ref.Top(region, 5)
		if !slices.Equal(terms(got), terms(want)) {
			t.Errorf("Top(%s) = %v; want %v", region, got, want)
		}
	}
	if tk := tr.Top("tokyo", 3); !strings.Contains(fmt.Sprint(tk), "{#eclipse 30}") {
		t.Errorf("Top(tokyo) = %v; want #eclipse 30", tk)
	}
}

func terms(cs []trending.Count) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s:%d", c.Term, c.Count)
	}
	return out
}

func TestTweetsMembus(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bus := membus.New(&membus.Options{Partitions: 3})
	runTweets(t, bus, "tweets", bus.Receiver("tweets", "search"), bus.Receiver("tweets", "trending"))
}

// TestTweetsKafka runs the social case study's pipeline on the real
// broker: tweets as change events on a three-partition topic, one consumer
// group for the search index and one for trends.
func TestTweetsKafka(t *testing.T) {
	env := testenv.Kafka(t)
	topic := env.Topic(3)
	w := kafkabus.NewWriter(env.Brokers...)
	// A transport of its own: the default one may hold metadata cached
	// before the topic existed.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w.Transport = tr
	defer w.Close()
	send, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	recv := func(group string) events.Receiver {
		r, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(env.Brokers, topic, topic+"-"+group))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	runTweets(t, send, topic, recv("search"), recv("trending"))
}
