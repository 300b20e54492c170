package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
)

func msg(to, conv string, seq uint64) wsregistry.Message {
	return wsregistry.Message{
		ID: fmt.Sprintf("%s-%d", conv, seq), Conv: conv, From: "sender", To: to, Seq: seq,
		Kind: "text", Body: []byte(fmt.Sprintf("body %s %d", conv, seq)),
		At: base.Add(time.Duration(seq) * time.Millisecond),
	}
}

func scanAll(t testing.TB, b wsregistry.Inbox, user string, after wsregistry.Position, limit int) []wsregistry.Message {
	t.Helper()
	got, err := b.Scan(context.Background(), user, after, limit)
	if err != nil {
		t.Fatalf("Scan %s after %+v: %v", user, after, err)
	}
	return got
}

func sameMessage(a, b wsregistry.Message) bool {
	return a.ID == b.ID && a.Conv == b.Conv && a.From == b.From && a.To == b.To && a.Seq == b.Seq &&
		a.Kind == b.Kind && bytes.Equal(a.Body, b.Body) && a.At.Equal(b.At)
}

func keys(ms []wsregistry.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprintf("%s/%d", m.Conv, m.Seq)
	}
	return out
}

// RunInbox runs the wsregistry.Inbox conformance cases as subtests of t.
func RunInbox(t *testing.T, open func(tb testing.TB) wsregistry.Inbox) {
	ctx := context.Background()
	t.Run("OrderAndRoundTrip", func(t *testing.T) {
		b := open(t)
		u, other := Unique("u"), Unique("u")
		var want []wsregistry.Message
		for _, k := range []struct {
			conv string
			seq  uint64
		}{{"c2", 3}, {"c1", 10}, {"c2", 1}, {"c1", 2}, {"c3", 1}} {
			m := msg(u, k.conv, k.seq)
			if err := b.Append(ctx, m); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
		if err := b.Append(ctx, msg(other, "c1", 1)); err != nil {
			t.Fatal(err)
		}
		want = []wsregistry.Message{msg(u, "c1", 2), msg(u, "c1", 10), msg(u, "c2", 1), msg(u, "c2", 3), msg(u, "c3", 1)}
		got := scanAll(t, open(t), u, wsregistry.Position{}, 100)
		if len(got) != len(want) {
			t.Fatalf("Scan: got %v; want %v", keys(got), keys(want))
		}
		for i := range want {
			if !sameMessage(got[i], want[i]) {
				t.Errorf("message %d: got %+v; want %+v", i, got[i], want[i])
			}
		}
		// Paging resumes strictly after a position.
		for _, tc := range []struct {
			after wsregistry.Position
			limit int
			want  string
		}{
			{wsregistry.Position{}, 2, "[c1/2 c1/10]"},
			{wsregistry.Position{Conv: "c1", Seq: 10}, 2, "[c2/1 c2/3]"},
			{wsregistry.Position{Conv: "c1", Seq: 3}, 1, "[c1/10]"},
			{wsregistry.Position{Conv: "c2", Seq: 3}, 10, "[c3/1]"},
			{wsregistry.Position{Conv: "c3", Seq: 1}, 10, "[]"},
			{wsregistry.Position{Conv: "c9"}, 10, "[]"},
		} {
			if got := fmt.Sprint(keys(scanAll(t, b, u, tc.after, tc.limit))); got != tc.want {
				t.Errorf("Scan after %+v limit %d: got %s; want %s", tc.after, tc.limit, got, tc.want)
			}
		}
		if got := scanAll(t, b, Unique("nobody"), wsregistry.Position{}, 10); len(got) != 0 {
			t.Errorf("Scan of an empty inbox: got %v", keys(got))
		}
	})
	t.Run("ReplaceAndDelete", func(t *testing.T) {
		b := open(t)
		u := Unique("u")
		m := msg(u, "c", 1)
		for range 2 {
			if err := b.Append(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		m2 := m
		m2.Body = []byte("replaced")
		if err := b.Append(ctx, m2); err != nil {
			t.Fatal(err)
		}
		if err := b.Append(ctx, msg(u, "c", 2)); err != nil {
			t.Fatal(err)
		}
		got := scanAll(t, b, u, wsregistry.Position{}, 10)
		if len(got) != 2 || string(got[0].Body) != "replaced" {
			t.Fatalf("after re-appends: got %+v; want 2 messages, the first replaced", got)
		}
		if err := b.Delete(ctx, u, "c", 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, u, "c", 1, 1); err != nil {
			t.Errorf("second Delete: got %v; want nil", err)
		}
		if err := b.Delete(ctx, Unique("nobody"), "c", 1, 1); err != nil {
			t.Errorf("Delete in an empty inbox: got %v; want nil", err)
		}
		if got := fmt.Sprint(keys(scanAll(t, b, u, wsregistry.Position{}, 10))); got != "[c/2]" {
			t.Errorf("after Delete: got %s; want [c/2]", got)
		}
	})
	t.Run("DeleteRange", func(t *testing.T) {
		b := open(t)
		u := Unique("u")
		for _, conv := range []string{"a", "b"} {
			for seq := uint64(1); seq <= 6; seq++ {
				if err := b.Append(ctx, msg(u, conv, seq)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := b.Delete(ctx, u, "a", 2, 4); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, u, "b", 1, 5); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(keys(scanAll(t, b, u, wsregistry.Position{}, 100))); got != "[a/1 a/5 a/6 b/6]" {
			t.Errorf("after range deletes: got %s; want [a/1 a/5 a/6 b/6]", got)
		}
	})
	t.Run("EmptyBody", func(t *testing.T) {
		b := open(t)
		u := Unique("u")
		m := msg(u, "c", 1)
		m.Body = nil
		if err := b.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := scanAll(t, b, u, wsregistry.Position{}, 10)
		if len(got) != 1 || len(got[0].Body) != 0 {
			t.Fatalf("got %+v; want one message with an empty body", got)
		}
	})
	t.Run("ConcurrentAppends", func(t *testing.T) {
		u := Unique("u")
		var wg sync.WaitGroup
		errs := make(chan error, Goroutines)
		const per = 5
		for i := range Goroutines {
			b := open(t)
			wg.Go(func() {
				for j := range per {
					if err := b.Append(ctx, msg(u, fmt.Sprintf("c%d", i%3), uint64(i*per+j+1))); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		b := open(t)
		var all []wsregistry.Message
		pos := wsregistry.Position{}
		for {
			page := scanAll(t, b, u, pos, 37)
			all = append(all, page...)
			if len(page) < 37 {
				break
			}
			pos = wsregistry.Position{Conv: page[len(page)-1].Conv, Seq: page[len(page)-1].Seq}
		}
		if len(all) != Goroutines*per {
			t.Fatalf("got %d messages; want %d", len(all), Goroutines*per)
		}
		for i := 1; i < len(all); i++ {
			a, c := all[i-1], all[i]
			if a.Conv > c.Conv || (a.Conv == c.Conv && a.Seq >= c.Seq) {
				t.Fatalf("out of order at %d: %s/%d then %s/%d", i, a.Conv, a.Seq, c.Conv, c.Seq)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		b := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		u := Unique("u")
		if err := b.Append(cctx, msg(u, "c", 1)); !errors.Is(err, context.Canceled) {
			t.Errorf("Append: got %v; want context.Canceled", err)
		}
		if got := scanAll(t, b, u, wsregistry.Position{}, 10); len(got) != 0 {
			t.Errorf("cancelled Append stored %v", keys(got))
		}
	})
}

// RunSequencer runs the wsregistry.Sequencer conformance cases as
// subtests of t.
func RunSequencer(t *testing.T, open func(tb testing.TB) wsregistry.Sequencer) {
	ctx := context.Background()
	t.Run("Sequence", func(t *testing.T) {
		q := open(t)
		c := Unique("c")
		if last, err := q.Last(ctx, c); err != nil || last != 0 {
			t.Fatalf("Last of a new conversation: got %d, %v; want 0", last, err)
		}
		for want := uint64(1); want <= 3; want++ {
			if got, err := q.Next(ctx, c); err != nil || got != want {
				t.Fatalf("Next: got %d, %v; want %d", got, err, want)
			}
		}
		if last, err := open(t).Last(ctx, c); err != nil || last != 3 {
			t.Fatalf("Last: got %d, %v; want 3", last, err)
		}
		other := Unique("c")
		if got, _ := q.Next(ctx, other); got != 1 {
			t.Errorf("another conversation starts at %d; want 1", got)
		}
		if bs, ok := q.(wsregistry.BatchSequencer); ok {
			got, err := bs.LastMany(ctx, []string{other, Unique("never"), c})
			if err != nil || fmt.Sprint(got) != "[1 0 3]" {
				t.Errorf("LastMany: got %v, %v; want [1 0 3]", got, err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		c := Unique("c")
		const per = 10
		var mu sync.Mutex
		seen := make(map[uint64]bool)
		var wg sync.WaitGroup
		for range Goroutines {
			q := open(t)
			wg.Go(func() {
				for range per {
					n, err := q.Next(ctx, c)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[n] {
						t.Errorf("sequence %d handed out twice", n)
					}
					seen[n] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for n := uint64(1); n <= Goroutines*per; n++ {
			if !seen[n] {
				t.Fatalf("sequence %d never handed out", n)
			}
		}
	})
}

// RunLastSeen runs the wsregistry.LastSeenStore conformance cases as
// subtests of t.
func RunLastSeen(t *testing.T, open func(tb testing.TB) wsregistry.LastSeenStore) {
	ctx := context.Background()
	t.Run("LatestWins", func(t *testing.T) {
		s := open(t)
		u := Unique("u")
		if _, err := s.LastSeen(ctx, u); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Fatalf("LastSeen of a new user: got %v; want ErrNotFound", err)
		}
		for _, at := range []int{5000, 1000, 7000, 6999, 7000} {
			if err := s.SetLastSeen(ctx, u, ms(at)); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := open(t).LastSeen(ctx, u); err != nil || !got.Equal(ms(7000)) {
			t.Fatalf("LastSeen: got %v, %v; want %v", got, err, ms(7000))
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		u := Unique("u")
		var wg sync.WaitGroup
		for i := range Goroutines {
			s := open(t)
			wg.Go(func() {
				if err := s.SetLastSeen(ctx, u, ms(i*10)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, err := open(t).LastSeen(ctx, u); err != nil || !got.Equal(ms((Goroutines-1)*10)) {
			t.Fatalf("LastSeen: got %v, %v; want %v", got, err, ms((Goroutines-1)*10))
		}
	})
}
