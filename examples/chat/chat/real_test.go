package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// realStack is the real setup on the test's own keys, database, keyspace
// and topic.
func realStack(t *testing.T) *backends.Stack {
	t.Helper()
	r := testenv.Redis(t)
	m := testenv.MySQL(t)
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := backends.Real(ctx, backends.Clients{Redis: r.Client, MySQL: m.DB, Cassandra: c.Session, Brokers: k.Brokers},
		backends.Settings{RedisPrefix: r.Key("chat") + ":", GroupTopic: k.Topic(3), FanoutGroup: testenv.Name(t, "fan"),
			SeenTopic: k.Topic(3), SeenGroup: testenv.Name(t, "seen"),
			MediaDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestRealTwoGateways runs two gateways in one process on the real
// servers (Redis registry, sequences, cache and pub/sub between hosts;
// MariaDB users and groups; Kafka group topic; Cassandra inbox and last
// seen): one-to-one messages with receipts across gateways, offline
// delivery through the Cassandra inbox, and a group message through Kafka.
func TestRealTwoGateways(t *testing.T) {
	e := start(t, realStack(t), 2, nil)
	alice, bob := e.client(0, "alice"), e.client(1, "bob")
	alice.text("bob", "r1", "over redis")
	if m := bob.c(isMsg(chat.KindText, "r1")); m.From != "alice" || m.Text != "over redis" {
		t.Fatalf("bob got %+v", m)
	}
	alice.c(isMsg(chat.KindDelivered, "r1"))

	login(t, e.urls[0], "carol")
	for i := range 3 {
		alice.text("carol", fmt.Sprintf("c%d", i), fmt.Sprintf("offline %d", i))
		alice.c(func(f chat.Out) bool { return f.Type == "sent" && f.ID == fmt.Sprintf("c%d", i) })
	}
	carol := e.client(1, "carol")
	got := carol.contents()
	if len(got) != 3 || got[0].Text != "offline 0" || got[2].Text != "offline 2" {
		t.Fatalf("carol's resync from Cassandra: %+v", got)
	}

	if r := do(t, "POST", e.urls[0]+"/groups", alice.token, strings.NewReader(`{"id":"team","name":"Team","members":["bob","carol"]}`)); r.status != 201 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	alice.send(map[string]any{"type": "send", "id": "k1", "group": "team", "text": "through kafka"})
	for _, c := range []*client{bob, carol} {
		if m := c.c(isMsg(chat.KindText, "k1")); m.Group != "team" {
			t.Fatalf("%s got %+v", c.user, m)
		}
	}
	var p struct {
		Online   bool
		LastSeen string `json:"last_seen"`
	}
	do(t, "GET", e.urls[1]+"/users/alice/presence", bob.token, nil).json(t, &p)
	if !p.Online {
		t.Fatalf("presence of alice: %+v", p)
	}
	// Last seen: alice leaves; her registry's update goes through Kafka to
	// the Cassandra last-seen table, which Presence reads.
	alice.ws.Close(websocket.StatusNormalClosure, "bye")
	deadline := time.Now().Add(time.Minute)
	for p.Online || p.LastSeen == "" {
		if time.Now().After(deadline) {
			t.Fatalf("presence of alice a minute after she left: %+v; want offline with a last-seen time", p)
		}
		time.Sleep(100 * time.Millisecond)
		p.Online, p.LastSeen = false, ""
		do(t, "GET", e.urls[1]+"/users/alice/presence", bob.token, nil).json(t, &p)
	}
	if at, err := time.Parse(time.RFC3339, p.LastSeen); err != nil || time.Since(at) > time.Minute {
		t.Fatalf("last seen %q, %v; want within the last minute", p.LastSeen, err)
	}
}
