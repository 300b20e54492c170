package memstore_test

import (
	"context"
	"fmt"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
)

func Example() {
	ctx := context.Background()
	store := memstore.New()
	alloc, err := tokenrange.NewAllocator(store, &tokenrange.AllocatorOptions{Limit: 1000})
	if err != nil {
		panic(err)
	}
	for range 2 {
		r, err := alloc.Allocate(ctx, "links", 100)
		if err != nil {
			panic(err)
		}
		fmt.Println("allocated", r)
	}
	issued, err := store.Issued(ctx, "links")
	if err != nil {
		panic(err)
	}
	fmt.Println("issued", issued)
	// Output:
	// allocated [0, 100)
	// allocated [100, 200)
	// issued [[0, 100) [100, 200)]
}
