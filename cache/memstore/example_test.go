package memstore_test

import (
	"context"
	"fmt"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
)

func Example() {
	ctx := context.Background()
	store := memstore.New(&memstore.Options{MaxEntries: 1000})
	loads := 0
	c, err := cache.New(store, cache.StringCodec{}, func(ctx context.Context, key string) (string, error) {
		loads++
		return "value of " + key, nil
	}, nil)
	if err != nil {
		panic(err)
	}
	for range 3 {
		v, err := c.Get(ctx, "k1")
		if err != nil {
			panic(err)
		}
		fmt.Println(v)
	}
	fmt.Println("loads:", loads)
	// Output:
	// value of k1
	// value of k1
	// value of k1
	// loads: 1
}
