package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// A Registry on a Store, with last-seen times kept in a LastSeen: alice
// connects from two devices, then leaves, and her presence tells when she
// was last seen.
func Example() {
	ctx := context.Background()
	now := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)
	seen := memstore.NewLastSeen()
	reg, err := wsregistry.New(memstore.New(), &wsregistry.Options{
		LastSeen: seen,
		OnSeen:   func(user string, at time.Time) { _ = seen.SetLastSeen(ctx, user, at) },
		Now:      func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	_, _ = reg.Register(ctx, "alice", "phone", "hostA")
	_, _ = reg.Register(ctx, "alice", "laptop", "hostB")
	conns, _ := reg.LookupFresh(ctx, "alice")
	for _, c := range conns {
		fmt.Println(c.Device, "on", c.Host)
	}

	now = now.Add(10 * time.Minute)
	_ = reg.Unregister(ctx, "alice", "phone", "hostA")
	_ = reg.Unregister(ctx, "alice", "laptop", "hostB")
	p, _ := reg.Presence(ctx, "alice")
	fmt.Println("online:", p.Online, "last seen:", p.LastSeen.Format(time.Kitchen))
	// Output:
	// laptop on hostB
	// phone on hostA
	// online: false last seen: 9:10AM
}
