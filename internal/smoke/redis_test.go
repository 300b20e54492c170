package smoke

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestRedisExpiredEvent checks PING and that an expiring key produces a
// keyspace notification. Redis sends the event when the key is actually
// deleted, so the test touches the key (EXISTS) to force lazy expiry rather
// than trusting the event's timing.
func TestRedisExpiredEvent(t *testing.T) {
	r := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if got := r.Client.Ping(ctx).Val(); got != "PONG" {
		t.Fatalf("PING = %q; want PONG", got)
	}
	if v := r.Client.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; v == "" {
		t.Fatalf("notify-keyspace-events is off; scripts/services/redis.sh sets Ex")
	}
	sub := r.Client.PSubscribe(ctx, "__keyevent@0__:expired")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatalf("psubscribe: %v", err)
	}
	key := r.Key("expiring")
	if err := r.Client.Set(ctx, key, "v", 100*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	ch := sub.Channel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m := <-ch:
			if m.Payload == key {
				if n := r.Client.Exists(ctx, key).Val(); n != 0 {
					t.Fatalf("key still exists after its expired event")
				}
				return
			}
		case <-tick.C:
			r.Client.Exists(ctx, key) // lazy expiry on access
		case <-ctx.Done():
			t.Fatalf("no expired event for %s within 20s", key)
		}
	}
}
