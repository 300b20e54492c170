package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/go-sql-driver/mysql.(*mysqlConn).startWatcher.func1"),
		goleak.IgnoreAnyFunction("github.com/apache/cassandra-gocql-driver/v2.(*Session).init"),
		goleak.IgnoreAnyFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go.(*connPool).discover"))
}

// TestDirectAcrossGateways: alice on gateway 1 writes to bob on gateway 2;
// the message crosses hosts through the transport, and alice sees sent,
// delivered and read receipts.
func TestDirectAcrossGateways(t *testing.T) {
	e := start(t, memoryStack(t), 2, nil)
	alice, bob := e.client(0, "alice"), e.client(1, "bob")
	alice.text("bob", "m1", "hello bob")
	sent := alice.c(func(f chat.Out) bool { return f.Type == "sent" })
	if sent.ID != "m1" || sent.Seq != 1 || sent.Conv != chat.DirectConv("bob", "alice") {
		t.Fatalf("sent: got %+v; want m1, seq 1 in u:bob:alice", sent)
	}
	m := bob.c(isMsg(chat.KindText, "m1"))
	if m.From != "alice" || m.Text != "hello bob" {
		t.Fatalf("bob got %+v; want hello bob from alice", m)
	}
	d := alice.c(isMsg(chat.KindDelivered, "m1"))
	if d.From != "bob" {
		t.Fatalf("delivered receipt: got %+v; want from bob", d)
	}
	bob.send(map[string]any{"type": "read", "conv": m.Conv, "id": m.ID, "from": m.From})
	if r := alice.c(isMsg(chat.KindRead, "m1")); r.From != "bob" {
		t.Fatalf("read receipt: got %+v", r)
	}
	if s := e.nodes[1].Service.Stats(); s.Delivered == 0 {
		t.Fatalf("gateway 2 stats: %+v; want deliveries", s)
	}
}

// TestOfflineInboxResync: messages to an offline user wait in the inbox
// and arrive in order on the resync after login; a second resync from the
// client's positions brings nothing again.
func TestOfflineInboxResync(t *testing.T) {
	e := start(t, memoryStack(t), 2, nil)
	login(t, e.urls[0], "bob") // bob exists but is offline
	alice := e.client(0, "alice")
	for i := range 5 {
		alice.text("bob", fmt.Sprintf("o%d", i), fmt.Sprintf("msg %d", i))
		alice.c(func(f chat.Out) bool { return f.Type == "sent" })
	}
	bob := e.client(1, "bob") // connect resyncs
	got := bob.contents()
	if len(got) != 5 {
		t.Fatalf("after resync: got %d messages; want 5", len(got))
	}
	for i, m := range got {
		if m.Text != fmt.Sprintf("msg %d", i) || m.Seq != uint64(i+1) {
			t.Fatalf("message %d: got %+v; want msg %d, seq %d", i, m, i, i+1)
		}
	}
	for range 5 {
		alice.c(isMsg(chat.KindDelivered, ""))
	}
	bob.send(map[string]any{"type": "resync", "after": map[string]uint64{}})
	if s := bob.c(func(f chat.Out) bool { return f.Type == "synced" }); s.Count != 0 {
		t.Fatalf("second resync after acks: got %d messages; want 0", s.Count)
	}
}

// TestGroupFanout: a group message goes through the group topic to every
// member but the sender, each on their own gateway, and the sender gets a
// delivered receipt from each.
func TestGroupFanout(t *testing.T) {
	e := start(t, memoryStack(t), 2, nil)
	alice, bob, carol := e.client(0, "alice"), e.client(1, "bob"), e.client(0, "carol")
	r := do(t, "POST", e.urls[0]+"/groups", alice.token, strings.NewReader(`{"id":"team","name":"Team","members":["bob","carol"]}`))
	if r.status != 201 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	alice.send(map[string]any{"type": "send", "id": "g1", "group": "team", "text": "hi team"})
	if s := alice.c(func(f chat.Out) bool { return f.Type == "sent" }); s.Group != "team" {
		t.Fatalf("sent: %+v", s)
	}
	for _, c := range []*client{bob, carol} {
		m := c.c(isMsg(chat.KindText, "g1"))
		if m.Group != "team" || m.From != "alice" || m.Conv != chat.GroupConv("team", c.user) {
			t.Fatalf("%s got %+v", c.user, m)
		}
	}
	from := map[string]bool{}
	for range 2 {
		from[alice.c(isMsg(chat.KindDelivered, "g1")).From] = true
	}
	if !from["bob"] || !from["carol"] {
		t.Fatalf("delivered receipts from %v; want bob and carol", from)
	}
	if n := len(alice.contents()); n != 0 {
		t.Fatalf("the sender received %d copies of its own group message; want 0", n)
	}
	// A non-member may not write to the group.
	dan := e.client(1, "dan")
	dan.send(map[string]any{"type": "send", "id": "g2", "group": "team", "text": "let me in"})
	if f := dan.c(func(f chat.Out) bool { return f.Type == "error" }); f.Code != "forbidden" {
		t.Fatalf("non-member send: got %+v; want forbidden", f)
	}
	// Members added later receive later messages (the member cache is invalidated).
	if r := do(t, "POST", e.urls[1]+"/groups/team/members", bob.token, strings.NewReader(`{"user":"dan"}`)); r.status != 204 {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	bob.send(map[string]any{"type": "send", "id": "g3", "group": "team", "text": "welcome dan"})
	if m := dan.c(isMsg(chat.KindText, "g3")); m.From != "bob" {
		t.Fatalf("dan got %+v", m)
	}
}

// TestMediaStoredOnce: the same image uploaded twice is stored once, the
// link travels in the message, and GET /media/{hash} serves it with the
// sniffed type. HTML and oversized uploads are refused.
func TestMediaStoredOnce(t *testing.T) {
	st := memoryStack(t)
	e := start(t, st, 2, nil)
	alice, bob := e.client(0, "alice"), e.client(1, "bob")
	var a1, a2 struct {
		Hash, Type, URL string
		Existed         bool
	}
	r1 := do(t, "POST", e.urls[0]+"/media", alice.token, bytes.NewReader(pngBytes))
	r2 := do(t, "POST", e.urls[1]+"/media", bob.token, bytes.NewReader(pngBytes))
	r1.json(t, &a1)
	r2.json(t, &a2)
	if r1.status != 201 || r2.status != 200 || a1.Hash != a2.Hash || !a2.Existed || a1.Type != "image/png" {
		t.Fatalf("uploads: %d %+v, %d %+v; want 201 then 200 with one hash, image/png", r1.status, a1, r2.status, a2)
	}
	n := 0
	iter := st.Bucket.List(nil)
	for {
		if _, err := iter.Next(context.Background()); err != nil {
			break
		}
		n++
	}
	if n != 1 {
		t.Fatalf("objects in the bucket: %d; want 1", n)
	}
	alice.send(map[string]any{"type": "send", "id": "pic", "to": "bob", "media": a1.Hash, "text": "look"})
	m := bob.c(isMsg(chat.KindMedia, "pic"))
	if m.Media == nil || m.Media.URL != "/media/"+a1.Hash || m.Media.Type != "image/png" {
		t.Fatalf("media message: %+v", m)
	}
	g := do(t, "GET", e.urls[1]+m.Media.URL, "", nil)
	if g.status != 200 || !bytes.Equal(g.body, pngBytes) {
		t.Fatalf("GET media: %d, %d bytes", g.status, len(g.body))
	}
	if r := do(t, "POST", e.urls[0]+"/media", alice.token, strings.NewReader("<html><script>alert(1)</script></html>")); r.status != 400 {
		t.Fatalf("HTML upload: %d %s; want 400", r.status, r.body)
	}
	big := append(append([]byte{}, pngBytes...), make([]byte, chat.DefaultMaxMedia)...)
	if r := do(t, "POST", e.urls[0]+"/media", alice.token, bytes.NewReader(big)); r.status != 413 {
		t.Fatalf("oversized upload: %d; want 413", r.status)
	}
	if r := do(t, "GET", e.urls[0]+"/media/"+strings.Repeat("0", 64), "", nil); r.status != 404 {
		t.Fatalf("GET unknown media: %d; want 404", r.status)
	}
	alice.send(map[string]any{"type": "send", "id": "pic2", "to": "bob", "media": strings.Repeat("0", 64)})
	if f := alice.c(func(f chat.Out) bool { return f.Type == "error" }); f.Code != "not_found" {
		t.Fatalf("send of unknown media: %+v", f)
	}
	if s := st.Bucket; s == nil {
		t.Fatal("no bucket")
	}
}

// TestPresence: online while connected, last seen after.
func TestPresence(t *testing.T) {
	e := start(t, memoryStack(t), 1, nil)
	alice, bob := e.client(0, "alice"), e.client(0, "bob")
	var p struct {
		Online   bool
		LastSeen string `json:"last_seen"`
	}
	do(t, "GET", e.urls[0]+"/users/bob/presence", alice.token, nil).json(t, &p)
	if !p.Online {
		t.Fatalf("presence of connected bob: %+v", p)
	}
	bob.ws.Close(websocket.StatusNormalClosure, "bye")
	bob.closeCode()
	for p.Online || p.LastSeen == "" { // Unregister runs in the gateway's Close callback
		p.Online, p.LastSeen = false, ""
		do(t, "GET", e.urls[0]+"/users/bob/presence", alice.token, nil).json(t, &p)
	}
	if r := do(t, "GET", e.urls[0]+"/users/nobody/presence", alice.token, nil); r.status != 404 {
		t.Fatalf("presence of unknown user: %d", r.status)
	}
}

// TestBadInput: every kind of bad input gets a clear error and changes
// nothing, or closes the offending socket with a specific code.
func TestBadInput(t *testing.T) {
	e := start(t, memoryStack(t), 1, &envOptions{gateway: &gateway.Options{Rate: 50, Burst: 50}})
	alice, bob := e.client(0, "alice"), e.client(0, "bob")
	errFrame := func(c *client) chat.Out { return c.c(func(f chat.Out) bool { return f.Type == "error" }) }

	t.Run("OversizedText", func(t *testing.T) {
		alice.text("bob", "big", strings.Repeat("x", chat.MaxText+1))
		if f := errFrame(alice); f.Code != "too_large" {
			t.Fatalf("got %+v; want too_large", f)
		}
	})
	t.Run("UnknownRecipient", func(t *testing.T) {
		alice.text("mallory", "u1", "hi")
		if f := errFrame(alice); f.Code != "unknown_recipient" || f.ID != "u1" {
			t.Fatalf("got %+v; want unknown_recipient for u1", f)
		}
		alice.send(map[string]any{"type": "send", "id": "u2", "group": "nogroup", "text": "hi"})
		if f := errFrame(alice); f.Code != "unknown_recipient" {
			t.Fatalf("unknown group: got %+v", f)
		}
	})
	t.Run("ProtocolErrors", func(t *testing.T) {
		for _, frame := range []string{
			`{"type":"dance"}`,
			`{"type":"send","id":"x","text":"no recipient"}`,
			`{"type":"send","id":"bad id!","to":"bob","text":"x"}`,
			`{"type":"send","id":"x","to":"bob","group":"g","text":"both"}`,
			`{"type":"send","id":"x","to":"bob","text":"   "}`,
			`{"type":"ack","conv":"u:alice","seq":1}`,
			`{"type":"ack","conv":"u:alice:bob","seq":0}`,
			`{"type":"resync","after":{"zz":1}}`,
			`[1,2,3]`,
		} {
			alice.raw([]byte(frame))
			if f := errFrame(alice); f.Code != "invalid" {
				t.Fatalf("%s: got %+v; want invalid", frame, f)
			}
		}
		// Receipts for streams that are not the sender's own are refused.
		alice.send(map[string]any{"type": "read", "conv": chat.DirectConv("bob", "carol"), "id": "x", "from": "carol"})
		if f := errFrame(alice); f.Code != "invalid" {
			t.Fatalf("forged receipt: %+v", f)
		}
		// The connection still works.
		alice.text("bob", "ok1", "still here")
		alice.c(func(f chat.Out) bool { return f.Type == "sent" && f.ID == "ok1" })
		bob.c(isMsg(chat.KindText, "ok1"))
	})
	t.Run("ForgedToken", func(t *testing.T) {
		forged := alice.token[:len(alice.token)-2] + "AA"
		_, res, err := websocket.Dial(context.Background(), wsURL(e.urls[0], forged), nil)
		if err == nil || res == nil || res.StatusCode != 401 {
			t.Fatalf("forged token: %v, %v; want 401", err, res)
		}
		if r := do(t, "POST", e.urls[0]+"/groups", forged, strings.NewReader(`{"id":"x","name":"x"}`)); r.status != 401 {
			t.Fatalf("forged token on HTTP: %d", r.status)
		}
		if r := do(t, "POST", e.urls[0]+"/login", "", strings.NewReader(`{"user":"alice","password":"wrong"}`)); r.status != 403 {
			t.Fatalf("wrong password: %d", r.status)
		}
	})
	t.Run("MalformedJSON", func(t *testing.T) {
		c := e.client(0, "eve")
		c.raw([]byte(`{"type":"send",`))
		if code := c.closeCode(); code != websocket.StatusInvalidFramePayloadData {
			t.Fatalf("close code: %v; want 1007", code)
		}
	})
	t.Run("OversizedFrame", func(t *testing.T) {
		c := e.client(0, "frank")
		c.raw([]byte(`{"type":"send","id":"x","to":"bob","text":"` + strings.Repeat("y", chat.MaxFrame) + `"}`))
		if code := c.closeCode(); code != websocket.StatusMessageTooBig {
			t.Fatalf("close code: %v; want 1009", code)
		}
	})
	t.Run("Flood", func(t *testing.T) {
		c := e.client(0, "flooder")
		c.mu.Lock()
		c.noAck = true
		c.mu.Unlock()
		b := []byte(`{"type":"resync","after":{}}`)
		for range 500 {
			if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
				break
			}
		}
		if code := c.closeCode(); code != gateway.CloseRateLimited {
			t.Fatalf("close code: %v; want %d", code, gateway.CloseRateLimited)
		}
		if n := e.nodes[0].Service.Gateway().Stats().RateLimited; n != 1 {
			t.Fatalf("rate limited connections: %d; want 1", n)
		}
		// Others are not affected.
		alice.text("bob", "ok2", "after the flood")
		bob.c(isMsg(chat.KindText, "ok2"))
	})
	if got := len(bob.contents()); got != 2 {
		t.Fatalf("bob received %d messages; want only the 2 valid ones", got)
	}
}

// TestManyClientsConcurrently: 12 users on two gateways all write to each
// other at once; every user ends with exactly the messages addressed to
// them, each once, in each sender's order.
func TestManyClientsConcurrently(t *testing.T) {
	e := start(t, memoryStack(t), 2, nil)
	const users, per = 12, 15
	cs := make([]*client, users)
	for i := range users {
		cs[i] = e.client(i%2, fmt.Sprintf("u%02d", i))
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for k := range per {
				to := (i + 1 + k%(users-1)) % users
				b, _ := json.Marshal(map[string]any{"type": "send", "id": fmt.Sprintf("%d-%d", i, k), "to": cs[to].user,
					"text": fmt.Sprintf("%d %d", i, k)})
				if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := make([]int, users) // messages addressed to each user
	for i := range users {
		for k := range per {
			want[(i+1+k%(users-1))%users]++
		}
	}
	for i, c := range cs {
		for len(c.contents()) < want[i] {
			c.c(isMsg(chat.KindText, "")) // wait for more, with c's timeout
		}
		last := map[string]int{}
		seen := map[string]bool{}
		for _, m := range c.contents() {
			var from, k int
			fmt.Sscanf(m.Text, "%d %d", &from, &k)
			if seen[m.ID] || k < last[m.From] {
				t.Fatalf("%s: %q duplicated or out of order", c.user, m.Text)
			}
			seen[m.ID], last[m.From] = true, k
		}
		if got := len(c.contents()); got != want[i] {
			t.Fatalf("%s: got %d messages; want %d", c.user, got, want[i])
		}
	}
}

// TestCORS: the API answers the pages of the gateways named in the origin
// patterns, and no one else.
func TestCORS(t *testing.T) {
	e := start(t, memoryStack(t), 1, &envOptions{gateway: &gateway.Options{Rate: -1, OriginPatterns: []string{"gw2.example:*"}}})
	for origin, want := range map[string]string{"http://gw2.example:8082": "http://gw2.example:8082", "http://evil.example": ""} {
		req, _ := http.NewRequest("OPTIONS", e.urls[0]+"/users/bob/presence", nil)
		req.Header.Set("Origin", origin)
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q; want %q", origin, got, want)
		}
	}
}
