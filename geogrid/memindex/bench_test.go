package memindex_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

// loaded returns a grid of n drivers spread over 2,000 random "cities"
// 5 km wide, with their ids and positions.
func loaded(b *testing.B, n int) (*geogrid.Grid, []string, [][2]float64, time.Time) {
	b.Helper()
	x, err := memindex.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	g, _ := geogrid.New(x, &geogrid.Options{TTL: time.Hour, Now: func() time.Time { return now }})
	r := rand.New(rand.NewPCG(1, 1))
	cities := make([][2]float64, 2000)
	for i := range cities {
		cities[i] = [2]float64{math.Asin(2*r.Float64()-1) * 180 / math.Pi * 0.8, r.Float64()*360 - 180}
	}
	ids := make([]string, n)
	pos := make([][2]float64, n)
	for i := range ids {
		c := cities[r.IntN(len(cities))]
		ids[i] = "driver-" + strconv.Itoa(i)
		pos[i] = [2]float64{c[0] + r.NormFloat64()*0.02, math.Remainder(c[1]+r.NormFloat64()*0.02, 360)}
		if err := g.Update(context.Background(), ids[i], pos[i][0], pos[i][1], now); err != nil {
			b.Fatal(err)
		}
	}
	return g, ids, pos, now
}

// BenchmarkUpdate moves random drivers of a 1M-driver grid by a few
// metres to a few hundred (log-uniform 2..300 m, a few seconds of driving
// between fixes). Each update carries its own copy of the id, as a decoded
// message would, rather than the string the index stored.
func BenchmarkUpdate(b *testing.B) { benchUpdate(b, 1_000_000) }

// BenchmarkUpdateSmall is BenchmarkUpdate on 10k drivers, whose data fits
// in the CPU caches: the difference is the cost of memory misses.
func BenchmarkUpdateSmall(b *testing.B) { benchUpdate(b, 10_000) }

type fix struct {
	id       string
	lat, lng float64
}

// stream returns n fixes of random drivers, each moving from the driver's
// previous fix in the stream.
func stream(ids []string, pos [][2]float64, n int) []fix {
	r := rand.New(rand.NewPCG(2, 2))
	cur := slices.Clone(pos)
	out := make([]fix, n)
	for i := range out {
		j := r.IntN(len(ids))
		d := 2 * math.Pow(150, r.Float64()) / geogrid.EarthRadiusMeters * 180 / math.Pi // degrees
		brg := r.Float64() * 2 * math.Pi
		p := &cur[j]
		p[0] = max(-89, min(89, p[0]+d*math.Cos(brg)))
		p[1] = math.Remainder(p[1]+d*math.Sin(brg)/math.Cos(p[0]*math.Pi/180), 360)
		out[i] = fix{strings.Clone(ids[j]), p[0], p[1]}
	}
	return out
}

func benchUpdate(b *testing.B, n int) {
	g, ids, pos, now := loaded(b, n)
	fixes := stream(ids, pos, 1<<21)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &fixes[i&(len(fixes)-1)]
		i++
		if err := g.Update(ctx, f.id, f.lat, f.lng, now.Add(time.Duration(i)*time.Microsecond)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNearby asks for the 10 nearest drivers within 3 km of random
// drivers' positions in a 1M-driver grid.
func BenchmarkNearby(b *testing.B) {
	g, _, pos, _ := loaded(b, 1_000_000)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 3))
	b.ReportAllocs()
	for b.Loop() {
		p := pos[r.IntN(len(pos))]
		if _, err := g.Nearby(ctx, p[0], p[1], 3000, 10, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel runs Update from every core.
func BenchmarkUpdateParallel(b *testing.B) {
	g, ids, pos, now := loaded(b, 1_000_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 2))
		for pb.Next() {
			j := r.IntN(len(ids))
			p := pos[j]
			if err := g.Update(ctx, ids[j], p[0]+(r.Float64()-0.5)*0.0009, p[1], now.Add(time.Duration(r.IntN(1e6))*time.Microsecond)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
