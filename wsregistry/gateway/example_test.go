package gateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

// greeter greets each connection and echoes messages in upper case.
type greeter struct{ closed chan error }

func (greeter) Open(_ context.Context, c *gateway.Conn) error {
	return c.Send([]byte("hello " + c.Identity().User))
}

func (greeter) Message(_ context.Context, c *gateway.Conn, data []byte) error {
	if len(data) == 0 {
		return gateway.CloseWith(gateway.CloseInvalidPayload, "empty message")
	}
	return c.Send([]byte(strings.ToUpper(string(data))))
}

func (g greeter) Close(_ *gateway.Conn, err error) { g.closed <- err }

func Example() {
	tokens, err := gateway.NewTokens([]byte("a secret of at least 16 bytes"), time.Hour)
	if err != nil {
		panic(err)
	}
	h := greeter{closed: make(chan error, 1)}
	gw, err := gateway.New(tokens, h, nil)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?token=" + tokens.Issue("alice", "phone")
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	c.Write(ctx, websocket.MessageText, []byte("how are you"))
	_, msg, _ = c.Read(ctx)
	fmt.Println(string(msg))

	// An empty message is invalid for this handler: the gateway closes the
	// connection with the code the handler chose.
	c.Write(ctx, websocket.MessageText, nil)
	_, _, err = c.Read(ctx)
	fmt.Println(websocket.CloseStatus(err))
	fmt.Println(<-h.closed)

	// A forged token is refused before the upgrade.
	_, resp, _ := websocket.Dial(ctx, url+"x", nil)
	fmt.Println(resp.StatusCode)

	fmt.Println(gw.Shutdown(ctx))
	// Output:
	// hello alice
	// HOW ARE YOU
	// StatusInvalidFramePayloadData
	// gateway: closed with 1007 "empty message"
	// 401
	// <nil>
}

// Tokens carry an identity and an expiry; Verify takes the time as an input.
func ExampleTokens_Verify() {
	tokens, err := gateway.NewTokens([]byte("a secret of at least 16 bytes"), time.Minute)
	if err != nil {
		panic(err)
	}
	issued := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tok := tokens.IssueAt("alice", "phone", issued)

	id, err := tokens.Verify(tok, issued.Add(30*time.Second))
	fmt.Println(id.User, id.Device, err)
	_, err = tokens.Verify(tok, issued.Add(time.Minute))
	fmt.Println(err)
	_, err = tokens.Verify(tok[:len(tok)-2]+"AA", issued)
	fmt.Println(err)
	// Output:
	// alice phone <nil>
	// gateway: token expired
	// gateway: bad token signature
}
