package redisbus_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisbus"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

// deployment opens the production adapters for a test or its child
// process.
func deployment(ctx context.Context, addr, prefix string, inbox wsregistry.Inbox) (*wsregistry.Registry, *wsregistry.Router, *redisstore.Sequencer, error) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	store, _ := redisstore.New(c, &redisstore.Options{Prefix: prefix + "reg:"})
	seq, _ := redisstore.NewSequencer(c, &redisstore.Options{Prefix: prefix + "reg:"})
	bus, _ := redisbus.New(c, &redisbus.Options{Prefix: prefix + "host:"})
	reg, err := wsregistry.New(store, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := wsregistry.NewRouter(reg, inbox, seq, bus, nil)
	return reg, r, seq, err
}

// sender is the child process of TestSenderKilled: it sends to bob in a
// loop and prints the ID of each message once Send has returned.
func sender() {
	ctx := context.Background()
	sess, err := dial.CassandraSession(ctx, strings.Split(os.Getenv(testenv.EnvCassandra), ","), os.Getenv("WSR_SENDER_KEYSPACE"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	inbox, _ := cqlstore.New(sess, nil)
	_, r, _, err := deployment(ctx, os.Getenv("WSR_SENDER_ADDR"), os.Getenv("WSR_SENDER_PREFIX"), inbox)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		m, err := r.Send(ctx, wsregistry.Message{ID: fmt.Sprint("k", i), Conv: "alice|bob", From: "alice", To: "bob"})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("sent", m.ID, m.Seq)
	}
}

// A sending gateway is killed with SIGKILL in the middle of its sends.
// Every message whose Send returned is delivered to bob when he
// reconnects; a sequence number the dead process took without storing a
// message (forced here too) leaves a gap that neither blocks later
// messages nor leaves anything in the inbox.
func TestSenderKilled(t *testing.T) {
	re := testenv.Redis(t)
	ce := testenv.Cassandra(t)
	ctx := context.Background()
	inbox, _ := cqlstore.New(ce.Session, nil)
	if err := inbox.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	prefix := re.Key("crash") + ":"

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WSR_SENDER_ADDR="+re.Addr, "WSR_SENDER_PREFIX="+prefix, "WSR_SENDER_KEYSPACE="+ce.Keyspace)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sent := make(map[string]bool)
	sc := bufio.NewScanner(out)
	for len(sent) < 40 && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "sent" {
			_ = cmd.Process.Kill()
			t.Fatalf("child: %q", sc.Text())
		}
		sent[f[1]] = true
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // lines written before the kill
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "sent" {
			sent[f[1]] = true
		}
	}
	_ = cmd.Wait()

	reg, r, seq, err := deployment(ctx, re.Addr, prefix, inbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seq.Next(ctx, "alice|bob"); err != nil { // a number taken by a sender that died
		t.Fatal(err)
	}
	last, err := r.Send(ctx, wsregistry.Message{ID: "after-crash", Conv: "alice|bob", From: "alice", To: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	sent[last.ID] = true

	// Bob reconnects: register, then resync and ack until nothing is left.
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	client := wsregistry.NewClient(0)
	got := make(map[string]bool)
	for {
		page, err := r.Resync(ctx, "bob", client.After(), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if client.Accept(m) {
				got[m.ID] = true
			}
			if err := r.Ack(ctx, "bob", m.Conv, m.Seq); err != nil {
				t.Fatal(err)
			}
		}
		if len(page) < 10 {
			break
		}
	}
	for id := range sent {
		if !got[id] {
			t.Errorf("message %s was sent (Send returned) but never delivered", id)
		}
	}
	if after := client.After()["alice|bob"]; after >= last.Seq {
		t.Errorf("client position %d; want it stopped below %d at the gap", after, last.Seq)
	}
	if again, err := r.Resync(ctx, "bob", client.After(), 10); err != nil || len(again) != 0 {
		t.Errorf("resync after acks: got %d messages, %v; want none", len(again), err)
	}
	t.Logf("%d messages sent before the kill, %d delivered (the dead sender may have stored one more)", len(sent)-1, len(got)-1)
}
