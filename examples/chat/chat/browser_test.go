package chat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

// cdp is a minimal Chrome DevTools Protocol client over the browser's
// websocket: commands with ids, answers matched by id, events ignored.
type cdp struct {
	t    *testing.T
	ws   *websocket.Conn
	mu   sync.Mutex
	next int
	wait map[int]chan json.RawMessage
}

func (c *cdp) run() {
	for {
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(b, &m) != nil || m.ID == 0 {
			continue
		}
		c.mu.Lock()
		ch := c.wait[m.ID]
		delete(c.wait, m.ID)
		c.mu.Unlock()
		if ch == nil {
			continue // an answer nobody waits for (Browser.close)
		}
		if m.Error != nil {
			ch <- append(json.RawMessage(`{"cdpError":`), append(m.Error, '}')...)
		} else {
			ch <- m.Result
		}
	}
}

func (c *cdp) call(session, method string, params any, out any) {
	c.t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan json.RawMessage, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("cdp %s: %v", method, err)
	}
	select {
	case res := <-ch:
		if strings.HasPrefix(string(res), `{"cdpError"`) {
			c.t.Fatalf("cdp %s: %s", method, res)
		}
		if out != nil {
			if err := json.Unmarshal(res, out); err != nil {
				c.t.Fatalf("cdp %s: %v", method, err)
			}
		}
	case <-ctx.Done():
		c.t.Fatalf("cdp %s: no answer", method)
	}
}

// page is one tab in its own browser context (its own storage).
type page struct {
	c       *cdp
	session string
	name    string
}

func (c *cdp) open(name, url string) *page {
	var bc struct{ BrowserContextID string }
	c.call("", "Target.createBrowserContext", map[string]any{}, &bc)
	var tg struct{ TargetID string }
	c.call("", "Target.createTarget", map[string]any{"url": url, "browserContextId": bc.BrowserContextID}, &tg)
	var at struct{ SessionID string }
	c.call("", "Target.attachToTarget", map[string]any{"targetId": tg.TargetID, "flatten": true}, &at)
	return &page{c: c, session: at.SessionID, name: name}
}

// eval evaluates a JavaScript expression in the page and returns its value.
func (p *page) eval(expr string) any {
	p.c.t.Helper()
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	p.c.call(p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if res.ExceptionDetails != nil {
		return nil
	}
	return res.Result.Value
}

// until polls expr until it is true.
func (p *page) until(what, expr string) {
	p.c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v, _ := p.eval(expr).(bool); v {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.c.t.Fatalf("%s: %s never became true (%s)", p.name, what, expr)
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

func (p *page) login(user string) {
	p.until("page script loaded", `document.readyState === "complete" && !!window.chat`)
	p.eval(`document.getElementById("user").value = ` + js(user) + `;
		document.getElementById("password").value = "pw-` + user + `";
		document.getElementById("login").requestSubmit(); true`)
	p.until("connected", `document.getElementById("status").dataset.state === "online"`)
}

func (p *page) openChat(peer string) {
	p.eval(`document.getElementById("peer").value = ` + js(peer) + `; document.getElementById("new-chat").requestSubmit(); true`)
}

func (p *page) write(text string) {
	p.eval(`document.getElementById("text").value = ` + js(text) + `; document.getElementById("compose").requestSubmit(); true`)
}

func tickOf(text string) string {
	return `(() => { const m = [...document.querySelectorAll(".msg.mine")].find((d) => d.querySelector(".text").textContent === ` +
		js(text) + `); return m ? m.querySelector(".ticks").dataset.state : ""; })()`
}

// TestChromiumTwoGateways: alice's page is served by gateway 1 and bob's by
// gateway 2, in headless Chromium. Alice writes; her message shows one tick
// (stored), then two (delivered to bob's page, which has not opened the
// chat), then read when bob opens it; bob's reply reaches alice.
func TestChromiumTwoGateways(t *testing.T) {
	bin := testenv.Chromium(t)
	e := start(t, memoryStack(t), 2, nil)
	login(t, e.urls[1], "bob") // accounts exist before the pages log in
	login(t, e.urls[0], "alice")

	c := launch(t, bin)
	alice := c.open("alice", e.urls[0]+"/?gateways="+e.urls[0])
	bob := c.open("bob", e.urls[1]+"/?gateways="+e.urls[1])
	alice.login("alice")
	bob.login("bob")
	if h1, h2 := alice.eval(`chat.host`), bob.eval(`chat.host`); h1 == h2 {
		t.Fatalf("both pages on host %v; want two gateways", h1)
	}

	alice.openChat("bob")
	alice.write("hello from gateway 1")
	alice.until("delivered tick", tickOf("hello from gateway 1")+` === "delivered"`)
	bob.until("chat listed with an unread badge", `!!document.querySelector('#chats li[data-chat="u:alice"] .unread')`)

	bob.eval(`document.querySelector('#chats li[data-chat="u:alice"]').click(); true`)
	bob.until("message shown", `[...document.querySelectorAll(".msg.theirs .text")].some((s) => s.textContent === "hello from gateway 1")`)
	alice.until("read tick", tickOf("hello from gateway 1")+` === "read"`)

	bob.write("hi alice, from gateway 2")
	alice.until("reply shown", `[...document.querySelectorAll(".msg.theirs .text")].some((s) => s.textContent === "hi alice, from gateway 2")`)
	bob.until("reply read", tickOf("hi alice, from gateway 2")+` === "read"`)

	// Presence: bob's page sees alice online.
	bob.until("presence", `document.getElementById("presence").textContent === "online"`)

	// A group made on alice's page: the message goes through the group
	// topic to bob's gateway; ticks count the other members.
	alice.eval(`document.getElementById("group-id").value = "team";
		document.getElementById("group-members").value = "bob";
		document.getElementById("new-group").requestSubmit(); true`)
	alice.until("group opened", `document.getElementById("title").textContent === "group team"`)
	alice.write("hello team")
	alice.until("group delivered tick", tickOf("hello team")+` === "delivered"`)
	bob.until("group listed", `!!document.querySelector('#chats li[data-chat="g:team"]')`)
	bob.eval(`document.querySelector('#chats li[data-chat="g:team"]').click(); true`)
	bob.until("group message shown with its sender",
		`[...document.querySelectorAll(".msg.theirs")].some((d) => d.querySelector(".from")?.textContent === "alice" && d.querySelector(".text").textContent === "hello team")`)
	alice.until("group read tick", tickOf("hello team")+` === "read"`)

	// Each page saw each message once.
	for _, p := range []*page{alice, bob} {
		if n := p.eval(`chat.log.length`); fmt.Sprint(n) != map[string]string{"alice": "1", "bob": "2"}[p.name] {
			t.Fatalf("%s's page logged %v messages", p.name, n)
		}
	}
}

// launch starts headless Chromium with remote debugging and returns a
// DevTools client; the browser is closed when the test ends.
func launch(t *testing.T, bin string) *cdp {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// The profile directory is removed after Chromium and all its child
	// processes have exited (Browser.close, then the process group).
	profile, err := os.MkdirTemp("", "chat-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	args := append(testenv.ChromiumArgs(profile), "--remote-debugging-port=0", "about:blank")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	devtools := ""
	for sc.Scan() {
		if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
			devtools = strings.TrimSpace(u)
			break
		}
	}
	if devtools == "" {
		t.Fatalf("chromium printed no DevTools address: %v", sc.Err())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	ws, _, err := websocket.Dial(ctx, devtools, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	c := &cdp{t: t, ws: ws, wait: map[int]chan json.RawMessage{}}
	go c.run()
	t.Cleanup(func() { // a clean exit, so that the profile is flushed and closed
		b, _ := json.Marshal(map[string]any{"id": 1 << 30, "method": "Browser.close"})
		_ = ws.Write(context.Background(), websocket.MessageText, b)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cancel()
			<-exited
		}
	})

	return c
}

// TestChromiumFailover: alice's page, served by gateway 1, lists both
// gateways. Gateway 1 stops abruptly mid-conversation; the page reconnects
// to gateway 2 (another origin), resyncs, and shows what bob wrote
// meanwhile once each and in order; what alice writes next reaches bob.
func TestChromiumFailover(t *testing.T) {
	bin := testenv.Chromium(t)
	e := start(t, memoryStack(t), 2, &envOptions{gateway: &gateway.Options{Rate: -1, OriginPatterns: []string{"127.0.0.1:*"}}})
	login(t, e.urls[1], "bob")
	login(t, e.urls[0], "alice")
	c := launch(t, bin)
	alice := c.open("alice", e.urls[0]+"/?gateways="+e.urls[0]+","+e.urls[1])
	bob := c.open("bob", e.urls[1]+"/?gateways="+e.urls[1])
	alice.login("alice")
	bob.login("bob")
	alice.until("on gateway 1", `chat.host.startsWith("gw1")`)

	alice.openChat("bob")
	alice.write("before the crash")
	alice.until("delivered tick", tickOf("before the crash")+` === "delivered"`)
	bob.eval(`document.querySelector('#chats li[data-chat="u:alice"]').click(); true`)

	e.stops[0](true)
	for i := range 3 {
		bob.write(fmt.Sprintf("during %d", i))
	}
	alice.until("reconnected to gateway 2", `chat.host.startsWith("gw2") && chat.connected`)
	alice.until("bob's messages shown",
		`[...document.querySelectorAll(".msg.theirs .text")].map((s) => s.textContent).join("|") === "during 0|during 1|during 2"`)
	alice.write("after the failover")
	bob.until("alice's message after the failover",
		`[...document.querySelectorAll(".msg.theirs .text")].map((s) => s.textContent).join("|") === "before the crash|after the failover"`)
	// The page's API calls follow it to gateway 2 (cross-origin, allowed
	// by the gateways' origin patterns): presence of bob from there.
	alice.eval(`chat.open("u:bob"); true`)
	alice.until("presence through gateway 2", `document.getElementById("presence").textContent === "online"`)
	if n := alice.eval(`chat.log.length`); fmt.Sprint(n) != "3" {
		t.Fatalf("alice's page logged %v messages; want 3", n)
	}
}
