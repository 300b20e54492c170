package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"

	"github.com/coder/websocket"
)

// dialAndWait is the client side of TestClientProcessKilled, run in a
// re-executed test binary: it connects, says so on stdout and waits to be
// killed.
func dialAndWait(url string) {
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	c.CloseRead(context.Background())
	fmt.Println("connected")
	select {}
}

// A client process killed with SIGKILL ends its connection: Handler.Close
// runs with a network error (not a close frame) and the gateway forgets it,
// while a connection open beside it is untouched.
func TestClientProcessKilled(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, nil)
	other := f.dial("bystander", nil)
	<-h.opened

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_DIAL="+f.url+"?token="+f.tokens.Issue("victim", "d"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "connected\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("client said %q", line)
	}
	victim := <-h.opened
	if victim.Identity().User != "victim" {
		t.Fatalf("opened %+v; want victim", victim.Identity())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	ev := <-h.closed
	var ce *CloseError
	if ev.c != victim || errors.As(ev.err, &ce) {
		t.Errorf("Handler.Close(%s, %v); want (victim, a network error)", ev.c.Identity().User, ev.err)
	}
	if s := f.gw.Stats(); s.Open != 1 {
		t.Errorf("Stats.Open = %d; want 1", s.Open)
	}
	other.Write(context.Background(), websocket.MessageText, []byte("still here"))
	if got := readText(t, other); got != "still here" {
		t.Errorf("bystander echo: %q", got)
	}
}

// Shutdown racing with senders on many connections: every Send that
// returned nil reaches its client before the 1001 close frame.
func TestShutdownDeliversAcceptedSends(t *testing.T) {
	h := newRecorder()
	const clients, max = 20, 5000
	f := newFixture(t, h, &Options{QueueSize: max, PingInterval: -1})
	conns := make([]*websocket.Conn, clients)
	gconns := make([]*Conn, clients)
	for i := range clients {
		conns[i] = f.dial(fmt.Sprint("c", i), nil)
		gconns[i] = <-h.opened
	}
	var wg, started sync.WaitGroup
	started.Add(clients)
	sent := make([]int, clients)
	recv := make([]int, clients)
	codes := make([]websocket.StatusCode, clients)
	for i := range clients {
		wg.Go(func() {
			defer func() {
				if sent[i] < 100 {
					started.Done()
				}
			}()
			for sent[i] < max {
				if sent[i] == 100 {
					started.Done()
				}
				if err := gconns[i].Send(fmt.Appendf(nil, "%d", sent[i])); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Send: %v", err)
					}
					return
				}
				sent[i]++
			}
		})
		wg.Go(func() {
			for {
				_, b, err := conns[i].Read(context.Background())
				if err != nil {
					codes[i] = websocket.CloseStatus(err)
					return
				}
				if string(b) != fmt.Sprint(recv[i]) {
					t.Errorf("client %d: got %q; want %d", i, b, recv[i])
				}
				recv[i]++
			}
		})
	}
	started.Wait() // every sender is under way
	if err := f.gw.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	cut := 0
	for i := range clients {
		if sent[i] < max {
			cut++
		}
		if recv[i] != sent[i] || codes[i] != CloseGoingAway {
			t.Errorf("client %d: received %d of %d accepted sends, close %d; want all, 1001", i, recv[i], sent[i], codes[i])
		}
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	t.Logf("%d of %d senders were cut off by Shutdown; %d messages accepted and delivered", cut, clients, total)
}
