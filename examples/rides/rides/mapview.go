package rides

import (
	_ "embed"
	"math"
	"net/http"
	"time"

	"github.com/golang/geo/s2"

	"github.com/sysblocks/sysblocks/geogrid"
)

//go:embed map.html
var mapPage []byte

func (s *Service) serveMapPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(mapPage)
}

type mapDriver struct {
	ID   string  `json:"id"`
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
	Busy bool    `json:"busy"`
}

type mapCell struct {
	Token    string       `json:"token"`
	Level    int          `json:"level"`
	Count    int          `json:"count"`
	Vertices [][2]float64 `json:"vertices"` // [lat, lng], counter-clockwise
}

type mapMarket struct {
	Token    string       `json:"token"`
	Supply   int          `json:"supply"`
	Demand   int          `json:"demand"`
	Surge    float64      `json:"surge"`
	Vertices [][2]float64 `json:"vertices"`
}

type mapView struct {
	Center  point       `json:"center"`
	Radius  float64     `json:"radius"`
	At      time.Time   `json:"at"`
	Drivers []mapDriver `json:"drivers"`
	Cells   []mapCell   `json:"cells"`
	Market  []mapMarket `json:"market"`
}

// MaxMapDrivers caps the drivers one map response draws.
const MaxMapDrivers = 2000

// cellShape returns the corners of c and the largest distance from its
// centre to a corner, in meters.
func cellShape(c geogrid.Cell) ([][2]float64, float64) {
	cell := s2.CellFromCellID(s2.CellID(c))
	clat, clng := c.Center()
	vs := make([][2]float64, 4)
	r := 0.0
	for k := range 4 {
		ll := s2.LatLngFromPoint(cell.Vertex(k))
		vs[k] = [2]float64{ll.Lat.Degrees(), ll.Lng.Degrees()}
		r = math.Max(r, geogrid.Distance(clat, clng, vs[k][0], vs[k][1]))
	}
	return vs, r
}

// near reports whether cell c may overlap the circle, and its corners.
// Empty cells wider than the view are left out: they are the large
// siblings of the cells that split, and would only cross the view.
func near(c geogrid.Cell, count int, lat, lng, radius float64) ([][2]float64, bool) {
	clat, clng := c.Center()
	vs, r := cellShape(c)
	if count == 0 && r > radius {
		return nil, false
	}
	return vs, geogrid.Distance(lat, lng, clat, clng) <= radius+r
}

func (s *Service) serveMap(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	lat, lng := q.float("lat", s.mapLat, false), q.float("lng", s.mapLng, false)
	radius := q.float("radius", s.mapRadius, false)
	if q.err != nil {
		writeError(w, q.err)
		return
	}
	if err := geogrid.CheckPoint("map", lat, lng); err != nil {
		writeError(w, err)
		return
	}
	if err := checkRadius(radius, 1); err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	view := mapView{Center: point{lat, lng}, Radius: radius, At: s.clock().UTC(), Drivers: []mapDriver{}, Cells: []mapCell{}, Market: []mapMarket{}}
	ns, err := s.grid.Nearby(ctx, lat, lng, radius, MaxMapDrivers, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	for _, n := range ns {
		_, busy := s.busy[n.ID]
		view.Drivers = append(view.Drivers, mapDriver{ID: n.ID, Lat: n.Lat, Lng: n.Lng, Busy: busy})
	}
	s.mu.Unlock()
	err = s.grid.Segments(ctx, func(seg geogrid.Segment) bool {
		if vs, ok := near(seg.Cell, seg.Count, lat, lng, radius); ok {
			view.Cells = append(view.Cells, mapCell{Token: seg.Cell.Token(), Level: seg.Cell.Level(), Count: seg.Count, Vertices: vs})
		}
		return len(view.Cells) < 5000
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.market.Window(s.clock(), func(c geogrid.Counts) bool {
		if vs, ok := near(c.Cell, c.Supply+c.Demand, lat, lng, radius); ok {
			view.Market = append(view.Market, mapMarket{Token: c.Cell.Token(), Supply: c.Supply, Demand: c.Demand, Surge: s.pricing.Surge(c), Vertices: vs})
		}
		return len(view.Market) < 5000
	})
	writeJSON(w, http.StatusOK, view)
}
