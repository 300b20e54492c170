package booking

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sysblocks/sysblocks/search"
)

// Limits on the fields of hotels and rooms.
const (
	MaxIDLen       = 64
	MaxNameLen     = 255
	MaxTextLen     = 16 << 10 // description
	MaxPlaceLen    = 128      // city, state, country
	MaxZipLen      = 32
	MaxImages      = 50
	MaxImageLen    = 1024
	MaxFacilities  = 50
	MaxFacilityLen = 128
	MaxRoomCount   = 100_000 // rooms of one type
)

// Locality is where a hotel is, as in the design notes' locality table.
type Locality struct {
	City    string `json:"city"`
	State   string `json:"state,omitempty"`
	Country string `json:"country"`
	Zip     string `json:"zip,omitempty"`
}

// Hotel is a hotel as the information database holds it: the hotel row,
// its locality, its facilities and its rooms.
type Hotel struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	Locality      Locality `json:"locality"`
	Images        []string `json:"images,omitempty"`         // original images
	DisplayImages []string `json:"display_images,omitempty"` // resized copies on the CDN
	Facilities    []string `json:"facilities,omitempty"`     // display names, sorted
	Active        bool     `json:"active"`
	Rooms         []Room   `json:"rooms,omitempty"` // by ID; set by the store
	// Version starts at 1 and grows by one with every change of the hotel
	// or one of its rooms; the search index orders change events by it.
	Version int64     `json:"version"`
	Updated time.Time `json:"updated"`
}

// Room is a room type of a hotel: Quantity rooms offered every night.
// Room IDs are unique across hotels: a booking names only its room.
type Room struct {
	ID         string   `json:"id"`
	HotelID    string   `json:"hotel_id"`
	Name       string   `json:"name"`
	Quantity   int      `json:"quantity"`
	PriceMin   float64  `json:"price_min"`
	PriceMax   float64  `json:"price_max"`
	Facilities []string `json:"facilities,omitempty"` // display names, sorted
	Active     bool     `json:"active"`
}

// HotelStore is the information database: hotels with their localities,
// facilities and rooms. Implementations must be safe for concurrent use;
// storetest checks them.
type HotelStore interface {
	// CreateHotel stores h (Version 1, no rooms). It returns an error
	// matching ErrExists if the ID is taken.
	CreateHotel(ctx context.Context, h Hotel) error
	// Hotel returns the hotel with its rooms, or ErrNotFound.
	Hotel(ctx context.Context, id string) (Hotel, error)
	// UpdateHotel replaces the hotel's own fields (not its rooms) with
	// those of h, sets Updated to h.Updated, increments the version and
	// returns the hotel as stored. It returns ErrNotFound for an unknown
	// ID. Concurrent updates are serialised: each gets its own version.
	UpdateHotel(ctx context.Context, h Hotel) (Hotel, error)
	// PutRoom creates or replaces room r of hotel r.HotelID, sets the
	// hotel's Updated to now, increments its version and returns the
	// hotel as stored. It returns ErrNotFound for an unknown hotel and
	// ErrRoomTaken when r.ID belongs to another hotel; nothing changes
	// then.
	PutRoom(ctx context.Context, r Room, now time.Time) (Hotel, error)
	// Room returns the room with the given ID, or ErrNotFound.
	Room(ctx context.Context, id string) (Room, error)
}

// Listing is what the search index holds of a hotel.
type Listing struct {
	ID          string
	Version     int64
	Name        string
	Description string
	City        string
	State       string
	Country     string
	Facilities  []string
	// PriceFrom is the lowest PriceMin of the active rooms; NaN when the
	// hotel has none.
	PriceFrom float64
}

// Listing returns the searchable part of h.
func (h Hotel) Listing() Listing {
	l := Listing{
		ID: h.ID, Version: h.Version, Name: h.Name, Description: h.Description,
		City: h.Locality.City, State: h.Locality.State, Country: h.Locality.Country,
		Facilities: h.Facilities, PriceFrom: math.NaN(),
	}
	for _, r := range h.Rooms {
		if r.Active && (math.IsNaN(l.PriceFrom) || r.PriceMin < l.PriceFrom) {
			l.PriceFrom = r.PriceMin
		}
	}
	return l
}

// Document returns the search document of l: the name, city, facilities
// and description are searchable (in that order of weight), the city and
// country are filter tags (lower-cased), and the lowest price is the
// numeric field "price".
func (l Listing) Document() search.Document {
	d := search.Document{
		ID:      l.ID,
		Version: uint64(l.Version),
		Fields: map[string]string{
			"name": l.Name, "city": l.City, "description": l.Description,
			"facilities": strings.Join(l.Facilities, " "),
		},
		Tags: map[string][]string{
			"city":    {strings.ToLower(l.City)},
			"country": {strings.ToLower(l.Country)},
		},
	}
	if !math.IsNaN(l.PriceFrom) {
		d.Numbers = map[string]float64{"price": l.PriceFrom}
	}
	return d
}

// FieldWeights are the weights of the search fields.
var FieldWeights = map[string]int{"name": 4, "city": 3, "facilities": 2, "description": 1}

// checkText checks a required (min 1) or optional string field.
func checkText(field, v string, required bool, max int) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid("missing_field", field, "required")
	case !utf8.ValidString(v):
		return invalid("invalid_field", field, "not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return invalid("invalid_field", field, "too long")
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }):
		return invalid("invalid_field", field, "control characters")
	}
	return nil
}

// CheckID reports whether id is a valid hotel or room ID: 1 to MaxIDLen
// letters, digits, '-' and '_'.
func CheckID(field, id string) error {
	if id == "" || len(id) > MaxIDLen {
		return invalid("invalid_id", field, "want 1 to 64 letters, digits, '-' or '_'")
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return invalid("invalid_id", field, "want 1 to 64 letters, digits, '-' or '_'")
		}
	}
	return nil
}

func checkList(field string, v []string, maxItems, maxLen int) ([]string, error) {
	if len(v) > maxItems {
		return nil, invalid("invalid_field", field, "too many items")
	}
	out := make([]string, 0, len(v))
	for _, s := range v {
		s = strings.TrimSpace(s)
		if err := checkText(field, s, true, maxLen); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// normalize checks the client-supplied fields of h and returns it with
// trimmed text and sorted, deduplicated facilities.
func (h Hotel) normalize() (Hotel, error) {
	h.Name = strings.TrimSpace(h.Name)
	h.Locality.City = strings.TrimSpace(h.Locality.City)
	h.Locality.Country = strings.TrimSpace(h.Locality.Country)
	h.Locality.State = strings.TrimSpace(h.Locality.State)
	h.Locality.Zip = strings.TrimSpace(h.Locality.Zip)
	for _, c := range []struct {
		field, v string
		req      bool
		max      int
	}{
		{"name", h.Name, true, MaxNameLen},
		{"description", h.Description, false, MaxTextLen},
		{"locality.city", h.Locality.City, true, MaxPlaceLen},
		{"locality.state", h.Locality.State, false, MaxPlaceLen},
		{"locality.country", h.Locality.Country, true, MaxPlaceLen},
		{"locality.zip", h.Locality.Zip, false, MaxZipLen},
	} {
		if err := checkText(c.field, c.v, c.req, c.max); err != nil {
			return Hotel{}, err
		}
	}
	var err error
	if h.Images, err = checkList("images", h.Images, MaxImages, MaxImageLen); err != nil {
		return Hotel{}, err
	}
	if h.DisplayImages, err = checkList("display_images", h.DisplayImages, MaxImages, MaxImageLen); err != nil {
		return Hotel{}, err
	}
	if h.Facilities, err = facilities("facilities", h.Facilities); err != nil {
		return Hotel{}, err
	}
	return h, nil
}

func facilities(field string, v []string) ([]string, error) {
	out, err := checkList(field, v, MaxFacilities, MaxFacilityLen)
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// normalize checks the client-supplied fields of r.
func (r Room) normalize() (Room, error) {
	r.Name = strings.TrimSpace(r.Name)
	if err := checkText("name", r.Name, true, MaxNameLen); err != nil {
		return Room{}, err
	}
	if r.Quantity < 0 || r.Quantity > MaxRoomCount {
		return Room{}, invalid("invalid_quantity", "quantity", "want 0 to 100000 rooms")
	}
	for _, p := range []struct {
		field string
		v     float64
	}{{"price_min", r.PriceMin}, {"price_max", r.PriceMax}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 || p.v > 1e9 {
			return Room{}, invalid("invalid_price", p.field, "want a price from 0 to 1e9")
		}
	}
	if r.PriceMax < r.PriceMin {
		return Room{}, invalid("invalid_price", "price_max", "below price_min")
	}
	var err error
	if r.Facilities, err = facilities("facilities", r.Facilities); err != nil {
		return Room{}, err
	}
	return r, nil
}
