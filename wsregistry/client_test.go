package wsregistry_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sysblocks/sysblocks/wsregistry"
)

func TestClientRemembersLastIDs(t *testing.T) {
	c := wsregistry.NewClient(3)
	for i := range 5 {
		if !c.Accept(wsregistry.Message{ID: fmt.Sprint("m", i), Conv: "c", Seq: uint64(i + 1)}) {
			t.Fatalf("m%d refused", i)
		}
	}
	for _, id := range []string{"m2", "m3", "m4"} {
		if c.Accept(wsregistry.Message{ID: id, Conv: "c", Seq: 1}) {
			t.Errorf("%s accepted twice", id)
		}
	}
	if !c.Accept(wsregistry.Message{ID: "m0", Conv: "c", Seq: 1}) {
		t.Error("m0 still remembered beyond the capacity of 3")
	}
	if got := c.After()["c"]; got != 5 {
		t.Errorf("After: got %d; want 5", got)
	}
}

func TestClientAfterOutOfOrder(t *testing.T) {
	c := wsregistry.NewClient(0)
	var wg sync.WaitGroup
	for s := uint64(1); s <= 200; s++ { // every seq once, concurrently, any order
		wg.Go(func() {
			m := wsregistry.Message{ID: fmt.Sprint("id", s), Conv: "g", Seq: s}
			if s%7 == 0 {
				c.Sent(m)
				return
			}
			c.Accept(m)
		})
	}
	wg.Wait()
	if got := c.After(); got["g"] != 200 || len(got) != 1 {
		t.Fatalf("After: got %v; want map[g:200]", got)
	}
}
