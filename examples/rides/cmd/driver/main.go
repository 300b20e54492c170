// Command driver is a tiny driver app for the rides example: it connects
// to the driver websocket, pings its position every few seconds while
// wandering around a point, prints every frame it receives, and can accept
// offers and drive the trips it wins to completion.
//
//	go run ./examples/rides/cmd/driver -driver kiran
//	go run ./examples/rides/cmd/driver -driver asha -lat 12.975 -lng 77.599 -auto
//	go run ./examples/rides/cmd/driver -n 25 -auto   # 25 drivers: d000 ... d024
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

func main() {
	var (
		server = flag.String("server", "ws://localhost:8080", "rides server")
		id     = flag.String("driver", "", "driver id (with -n: the prefix)")
		n      = flag.Int("n", 1, "how many drivers to run")
		lat    = flag.Float64("lat", 12.9716, "where to wander")
		lng    = flag.Float64("lng", 77.5946, "where to wander")
		spread = flag.Float64("spread", 0.01, "wander within this many degrees")
		every  = flag.Duration("every", 4*time.Second, "ping period")
		auto   = flag.Bool("auto", false, "accept offers, then start and complete won trips after -ride")
		ride   = flag.Duration("ride", 10*time.Second, "with -auto: time from accept to start, and from start to complete")
		quiet  = flag.Bool("quiet", false, "do not print frames")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *id == "" {
		*id = "d"
		if *n == 1 {
			*id = fmt.Sprintf("d%03d", rand.IntN(1000))
		}
	}
	var wg sync.WaitGroup
	for i := range *n {
		name := *id
		if *n > 1 {
			name = fmt.Sprintf("%s%03d", *id, i)
		}
		d := &driver{id: name, lat: *lat + (rand.Float64()-0.5)*(*spread), lng: *lng + (rand.Float64()-0.5)*(*spread),
			spread: *spread / 20, auto: *auto, ride: *ride, quiet: *quiet}
		wg.Go(func() {
			if err := d.run(ctx, *server, *every); err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", d.id, err)
			}
		})
	}
	wg.Wait()
}

type driver struct {
	id          string
	lat, lng    float64
	spread      float64
	auto, quiet bool
	ride        time.Duration
	mu          sync.Mutex // guards writes to the connection
}

func (d *driver) send(ctx context.Context, c *websocket.Conn, v map[string]any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return wsjson.Write(ctx, c, v)
}

func (d *driver) run(ctx context.Context, server string, every time.Duration) error {
	c, _, err := websocket.Dial(ctx, server+"/v1/drivers/ws?driver="+url.QueryEscape(d.id), nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			d.lat += (rand.Float64() - 0.5) * d.spread
			d.lng += (rand.Float64() - 0.5) * d.spread
			if err := d.send(ctx, c, map[string]any{"type": "location", "lat": d.lat, "lng": d.lng}); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				_ = c.Close(websocket.StatusNormalClosure, "")
				return
			case <-t.C:
			}
		}
	}()
	for {
		var f struct {
			Type  string
			Offer struct{ Trip string }
			Trip  struct{ ID, State string }
		}
		_, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if !d.quiet {
			fmt.Printf("%s <- %s\n", d.id, b)
		}
		if !d.auto || json.Unmarshal(b, &f) != nil {
			continue
		}
		switch {
		case f.Type == "offer":
			_ = d.send(ctx, c, map[string]any{"type": "accept", "trip": f.Offer.Trip})
		case f.Type == "accepted" || f.Type == "assigned":
			d.later(ctx, c, "start", f.Trip.ID)
		case f.Type == "started":
			d.later(ctx, c, "complete", f.Trip.ID)
		}
	}
}

func (d *driver) later(ctx context.Context, c *websocket.Conn, typ, trip string) {
	time.AfterFunc(d.ride, func() { _ = d.send(ctx, c, map[string]any{"type": typ, "trip": trip}) })
}
