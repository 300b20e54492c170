package smoke

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v4"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestTURNAllocation allocates a relay on coturn with pion/turn, once with the
// static user and once with TURN REST credentials, and sends a datagram
// through the relay to a loopback echo peer and back. A wrong password must
// be refused with 401.
func TestTURNAllocation(t *testing.T) {
	e := testenv.TURN(t)
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() { // echo
		buf := make([]byte, 1500)
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = peer.WriteTo(buf[:n], from)
		}
	}()
	restUser, restPass, err := turn.GenerateLongTermTURNRESTCredentials(e.Secret, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, addr, user, pass string }{
		{"static", e.Addr, e.User, e.Password},
		{"rest", e.RESTAddr, restUser, restPass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, relay := allocate(t, tc.addr, e.Realm, tc.user, tc.pass)
			defer client.Close()
			defer relay.Close()
			msg := []byte("hello through the relay: " + tc.name)
			if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
				t.Fatalf("relay write: %v", err)
			}
			_ = relay.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 1500)
			n, from, err := relay.ReadFrom(buf)
			if err != nil {
				t.Fatalf("relay read: %v", err)
			}
			if string(buf[:n]) != string(msg) || from.String() != peer.LocalAddr().String() {
				t.Fatalf("relay got %q from %v; want %q from %v", buf[:n], from, msg, peer.LocalAddr())
			}
		})
	}
	t.Run("bad password", func(t *testing.T) {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: e.Addr, TURNServerAddr: e.Addr, Conn: conn,
			Username: e.User, Password: "wrong", Realm: e.Realm})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		if relay, err := c.Allocate(); err == nil {
			relay.Close()
			t.Fatalf("allocation with a wrong password succeeded")
		} else if !strings.Contains(err.Error(), "401") {
			t.Fatalf("allocation with a wrong password: %v; want a 401 error", err)
		}
	})
}

func allocate(t *testing.T, addr, realm, user, pass string) (*turn.Client, net.PacketConn) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: realm})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatalf("binding request: %v", err)
	}
	if !strings.HasPrefix(mapped.String(), "127.0.0.1:") {
		t.Fatalf("mapped address %v; want 127.0.0.1:*", mapped)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate on %s: %v", addr, err)
	}
	return c, relay
}
