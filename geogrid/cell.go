package geogrid

import (
	"math"
	"strconv"

	"github.com/golang/geo/s2"
)

// EarthRadiusMeters is the mean Earth radius (IUGG) used for every distance
// in this package. Great-circle distances on this sphere differ from
// ellipsoidal (WGS84) distances by up to about 0.5%.
const EarthRadiusMeters = 6371008.8

// MaxLevel is the finest cell level (S2 leaf cells, about 1 cm across).
const MaxLevel = s2.MaxLevel

// Cell is an S2 cell: a node of the quadtree that covers the sphere through
// the six faces of a cube. A cell at level L has four children at level L+1,
// one parent at level L-1 and eight neighbours at its level (seven at a cube
// corner). The value is the 64-bit S2 cell id. Cell is a plain value, safe
// for concurrent use.
type Cell uint64

// CellAt returns the cell at the given level (0..[MaxLevel]) that contains
// the point. It returns an [*InputError] for an invalid point or level.
func CellAt(lat, lng float64, level int) (Cell, error) {
	if err := CheckPoint("cell", lat, lng); err != nil {
		return 0, err
	}
	if level < 0 || level > MaxLevel {
		return 0, &InputError{Op: "cell", Field: "level", Value: float64(level), Reason: "outside 0..30"}
	}
	return Cell(s2.CellIDFromLatLng(s2.LatLngFromDegrees(lat, lng)).Parent(level)), nil
}

func (c Cell) id() s2.CellID { return s2.CellID(c) }

// Valid reports whether c is a valid cell id.
func (c Cell) Valid() bool { return c.id().IsValid() }

// Level returns the level of c: 0 for a cube face, [MaxLevel] for a leaf.
func (c Cell) Level() int { return c.id().Level() }

// Parent returns the ancestor of c at the given level, which must not be
// finer than c's own level.
func (c Cell) Parent(level int) Cell { return Cell(c.id().Parent(level)) }

// Children returns the four children of c in Hilbert curve order. A leaf
// cell has no children; its Children are meaningless.
func (c Cell) Children() [4]Cell {
	ch := c.id().Children()
	return [4]Cell{Cell(ch[0]), Cell(ch[1]), Cell(ch[2]), Cell(ch[3])}
}

// EdgeNeighbors returns the four cells at c's level that share an edge
// with c.
func (c Cell) EdgeNeighbors() [4]Cell {
	n := c.id().EdgeNeighbors()
	return [4]Cell{Cell(n[0]), Cell(n[1]), Cell(n[2]), Cell(n[3])}
}

// Neighbors returns the cells at c's level that touch c along an edge or at
// a vertex: eight in general, seven at a cube corner.
func (c Cell) Neighbors() []Cell {
	n := c.id().AllNeighbors(c.Level())
	out := make([]Cell, 0, len(n))
	for _, x := range n {
		dup := false
		for _, y := range out {
			dup = dup || y == Cell(x)
		}
		if !dup && Cell(x) != c {
			out = append(out, Cell(x))
		}
	}
	return out
}

// Contains reports whether o lies inside c (or is c).
func (c Cell) Contains(o Cell) bool { return c.id().Contains(o.id()) }

// ContainsPoint reports whether the point lies inside c. Invalid points are
// inside no cell.
func (c Cell) ContainsPoint(lat, lng float64) bool {
	if CheckPoint("", lat, lng) != nil {
		return false
	}
	return c.id().Contains(s2.CellIDFromLatLng(s2.LatLngFromDegrees(lat, lng)))
}

// Center returns the centre of c in degrees.
func (c Cell) Center() (lat, lng float64) {
	ll := c.id().LatLng()
	return ll.Lat.Degrees(), ll.Lng.Degrees()
}

// LatLng is a point in degrees.
type LatLng struct {
	Lat float64 // [-90, 90]
	Lng float64 // [-180, 180]
}

// Vertices returns the four corners of c in counter-clockwise order (seen
// from outside the sphere). The edges between consecutive corners are
// great-circle arcs: straight lines between the corners on a map are close
// to them for city-sized cells and bow away from them for cells hundreds of
// kilometres across.
func (c Cell) Vertices() [4]LatLng {
	cell := s2.CellFromCellID(c.id())
	var out [4]LatLng
	for k := range out {
		ll := s2.LatLngFromPoint(cell.Vertex(k))
		out[k] = LatLng{Lat: ll.Lat.Degrees(), Lng: ll.Lng.Degrees()}
	}
	return out
}

// Bounds returns the smallest latitude-longitude rectangle that contains c,
// as its south-west and north-east corners. The rectangle bounds the
// cell's curved edges too, so it may be a little larger than the box of
// the vertices. For a cell that crosses the antimeridian sw.Lng > ne.Lng;
// a cell that contains a pole spans every longitude (-180 to 180) and
// reaches latitude ±90.
func (c Cell) Bounds() (sw, ne LatLng) {
	r := s2.CellFromCellID(c.id()).RectBound()
	return LatLng{Lat: r.Lat.Lo * 180 / math.Pi, Lng: r.Lng.Lo * 180 / math.Pi},
		LatLng{Lat: r.Lat.Hi * 180 / math.Pi, Lng: r.Lng.Hi * 180 / math.Pi}
}

// Token returns the compact hexadecimal form of c used by S2 libraries.
func (c Cell) Token() string { return c.id().ToToken() }

// String returns the face/position form of c, such as "3/0213".
func (c Cell) String() string { return c.id().String() }

// QuadKey returns c as a string of base-4 digits: the face (0..5) followed
// by one child position (0..3) per level, so the key of an ancestor is a
// prefix of the key of every cell inside it. Level-L cells have keys of
// length L+1. Stores that cannot do 64-bit arithmetic (Lua in Redis) work on
// these keys.
func (c Cell) QuadKey() string {
	id := c.id()
	lv := id.Level()
	b := make([]byte, lv+1)
	b[0] = byte('0' + id.Face())
	for l := 1; l <= lv; l++ {
		b[l] = byte('0' + id.ChildPosition(l))
	}
	return string(b)
}

// CellFromQuadKey parses a key made by [Cell.QuadKey]. It returns an
// [*InputError] for anything else.
func CellFromQuadKey(key string) (Cell, error) {
	if len(key) < 1 || len(key) > MaxLevel+1 {
		return 0, &InputError{Op: "quadkey", Field: "length", Value: float64(len(key)), Reason: "want 1..31 digits"}
	}
	if key[0] < '0' || key[0] > '5' {
		return 0, &InputError{Op: "quadkey", Field: "face", Value: float64(key[0]), Reason: "want a digit 0..5"}
	}
	id := s2.CellIDFromFace(int(key[0] - '0'))
	for i := 1; i < len(key); i++ {
		d := key[i]
		if d < '0' || d > '3' {
			return 0, &InputError{Op: "quadkey", Field: "digit " + strconv.Itoa(i), Value: float64(d), Reason: "want a digit 0..3"}
		}
		id = id.Children()[d-'0']
	}
	return Cell(id), nil
}

// CheckPoint returns an [*InputError] naming op when lat or lng is NaN,
// infinite, or outside [-90, 90] and [-180, 180] degrees.
func CheckPoint(op string, lat, lng float64) error {
	if math.IsNaN(lat) || math.IsInf(lat, 0) {
		return &InputError{Op: op, Field: "lat", Value: lat, Reason: "not a finite number"}
	}
	if math.IsNaN(lng) || math.IsInf(lng, 0) {
		return &InputError{Op: op, Field: "lng", Value: lng, Reason: "not a finite number"}
	}
	if lat < -90 || lat > 90 {
		return &InputError{Op: op, Field: "lat", Value: lat, Reason: "outside [-90, 90]"}
	}
	if lng < -180 || lng > 180 {
		return &InputError{Op: op, Field: "lng", Value: lng, Reason: "outside [-180, 180]"}
	}
	return nil
}

// Distance returns the great-circle distance in meters between two points
// given in degrees, by the haversine formula on a sphere of radius
// [EarthRadiusMeters]. It is exact to floating-point rounding at every
// distance, including across the antimeridian and at the poles.
func Distance(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	sdlat := math.Sin((lat2 - lat1) * rad / 2)
	sdlng := math.Sin((lng2 - lng1) * rad / 2)
	a := sdlat*sdlat + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sdlng*sdlng
	if a > 1 {
		a = 1
	}
	return 2 * EarthRadiusMeters * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
}
