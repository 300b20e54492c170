package tokenrange_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sysblocks/sysblocks/shortid"
	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
)

// A URL shortener server: tokens from a Leaser, codes from a shortid.Codec.
// In production the store is sqlstore or redisstore, shared by every server.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	codec, err := shortid.New(7, nil, nil) // pass a key to scramble the codes
	if err != nil {
		panic(err)
	}
	alloc, err := tokenrange.NewAllocator(memstore.New(), &tokenrange.AllocatorOptions{Limit: codec.Space()})
	if err != nil {
		panic(err)
	}
	l, err := tokenrange.NewLeaser(alloc, "links", nil)
	if err != nil {
		panic(err)
	}
	defer l.Close()
	go l.Run(ctx) // fetches the next range in the background

	for range 3 {
		tok, err := l.Next(ctx)
		if err != nil {
			panic(err)
		}
		code, _ := codec.Encode(tok)
		fmt.Println(tok, code)
	}
	// Output:
	// 0 0000000
	// 1 0000001
	// 2 0000002
}

// Two servers sharing one store never hand out the same token: each leases
// its own range.
func Example_twoServers() {
	ctx := context.Background()
	store := memstore.New()
	alloc, _ := tokenrange.NewAllocator(store, nil)
	a, _ := tokenrange.NewLeaser(alloc, "links", &tokenrange.LeaserOptions{InitialSize: 100})
	b, _ := tokenrange.NewLeaser(alloc, "links", &tokenrange.LeaserOptions{InitialSize: 100})
	for range 2 {
		ta, _ := a.Next(ctx)
		tb, _ := b.Next(ctx)
		fmt.Println("server a:", ta, "server b:", tb)
	}
	// Output:
	// server a: 0 server b: 100
	// server a: 1 server b: 101
}

// Ranges come from a durable counter; the last one is cut at the limit.
func ExampleAllocator_Allocate() {
	ctx := context.Background()
	alloc, _ := tokenrange.NewAllocator(memstore.New(), &tokenrange.AllocatorOptions{Limit: 2500})
	for {
		r, err := alloc.Allocate(ctx, "links", 1000)
		if errors.Is(err, tokenrange.ErrExhausted) {
			fmt.Println("exhausted")
			break
		}
		fmt.Println(r, r.Len())
	}
	// Output:
	// [0, 1000) 1000
	// [1000, 2000) 1000
	// [2000, 2500) 500
	// exhausted
}

// Next reports the end of the token space with ErrExhausted.
func ExampleLeaser_Next() {
	ctx := context.Background()
	alloc, _ := tokenrange.NewAllocator(memstore.New(), &tokenrange.AllocatorOptions{Limit: 3})
	l, _ := tokenrange.NewLeaser(alloc, "links", nil)
	for {
		tok, err := l.Next(ctx)
		if err != nil {
			fmt.Println(errors.Is(err, tokenrange.ErrExhausted), err)
			break
		}
		fmt.Println(tok)
	}
	// Output:
	// 0
	// 1
	// 2
	// true tokenrange: next "links": tokenrange: token space exhausted
}
