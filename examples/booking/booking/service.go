package booking

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/cache"
	cachemem "github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/eventfeed"
)

// Defaults of Config fields left at zero.
const (
	DefaultHotelTopic    = "booking.hotels"
	DefaultBookingTopic  = "booking.bookings"
	DefaultViewTTL       = time.Minute
	DefaultViewDays      = 14
	DefaultInventoryDays = 365
	DefaultQueryCacheTTL = 5 * time.Second
	MaxViewDays          = 90
)

// Config wires a Service. Hotels, Reservations and Events are required;
// every other zero field means the default it documents.
type Config struct {
	// Hotels is the information database (memstore, or MariaDB through
	// sqlstore).
	Hotels HotelStore
	// Reservations is the availability database, behind the reservation
	// block (reservation/memstore, or reservation/sqlstore on MariaDB).
	Reservations reservation.Store
	// Alarm wakes the reservation sweeper at hold deadlines
	// (reservation/redisnotify in the real setup). If it also has a method
	// Run(ctx, wake func()) error, Run runs it. Nil: the sweeper's period
	// alone.
	Alarm reservation.Alarm

	// Events carries hotel change events (to the search index) and
	// booking events (membus, or Kafka through events/kafkabus).
	Events events.Sender
	// HotelTopic and BookingTopic name the topics. Empty means
	// DefaultHotelTopic and DefaultBookingTopic.
	HotelTopic, BookingTopic string
	// HotelReceiver is this process's consumer group on HotelTopic: it
	// feeds the search index (search/eventfeed). Every process needs its
	// own group, since every index needs every event. Nil: the index
	// changes only by rebuilds.
	HotelReceiver events.Receiver
	// BookingReceiver is a consumer group on BookingTopic that invalidates
	// the management view on booking events from any process. Nil: only
	// this process's own events invalidate it.
	BookingReceiver events.Receiver

	// SearchSource is the database for full rebuilds of the index
	// (search/sqlsource in the real setup). Nil disables rebuilds.
	SearchSource search.Source
	// QueryCache keeps hot search results (search/querycache: Redis in the
	// real setup). Nil caches nothing. QueryCacheTTL is how long a result
	// is served; zero means DefaultQueryCacheTTL.
	QueryCache    search.QueryCache
	QueryCacheTTL time.Duration

	// ViewCache stores the management view of each hotel (the cache
	// block's store: Redis in the real setup), so that managers do not
	// load the availability database. Nil means an in-process cache.
	// ViewTTL bounds how stale a view may be when an invalidation is lost;
	// zero means DefaultViewTTL. ViewDays is how many nights from today it
	// shows; zero means DefaultViewDays.
	ViewCache cache.Store
	ViewTTL   time.Duration
	ViewDays  int

	// Archive is the cold store of finished bookings (archive/cqlstore on
	// Cassandra in the real setup, partitioned by user). Nil archives
	// nothing: a user's history is the live bookings only.
	Archive archive.Store
	// ArchiveAge is how long after it was cancelled or completed a
	// booking moves to Archive; zero means archive.DefaultAge (30 days).
	// ArchiveInterval is the period of the archiver; zero means
	// archive.DefaultInterval (one hour).
	ArchiveAge, ArchiveInterval time.Duration

	// InventoryDays is how many nights from today a room's quantity is
	// offered when the room is put. Zero means DefaultInventoryDays.
	InventoryDays int
	// Reservation tunes the reservation block (hold TTL, longest stay,
	// most rooms per booking, sweeper). Now, Emitter, Alarm and Logger are
	// set by the Service.
	Reservation reservation.Options

	// NewID returns a fresh hotel ID. Nil means "h_" and 20 random
	// characters.
	NewID func() string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the service's records. Nil discards them.
	Logger *slog.Logger
	// Ops serves /healthz and /metrics and receives the counters. Nil
	// makes a private one.
	Ops *ops.Ops
}

// Service is the hotel booking service of the design notes: hotel
// onboarding and updates, search, bookings with payment callbacks, the
// users' booking history and the managers' view. It is safe for
// concurrent use. Serve Handler and run Run.
type Service struct {
	hotels                   HotelStore
	res                      *reservation.Service
	alarm                    reservation.Alarm
	index                    *search.Index
	feed                     *eventfeed.Feed
	source                   search.Source
	sub                      *events.Subscriber
	pub                      *events.Publisher
	view                     *cache.Cache[View]
	live                     archive.Lister
	cold                     archive.Lister
	arch                     *archive.Archiver
	hotelTopic, bookingTopic string
	viewDays, invDays        int
	maxNights, maxQty        int
	newID                    func() string
	origin                   []byte // this process, in the header of its booking events
	clock                    func() time.Time
	log                      *slog.Logger
	ops                      *ops.Ops
	handler                  http.Handler

	running atomic.Bool
	c       counters
}

type counters struct {
	hotelsCreated, hotelsUpdated, roomsPut, holds, refused, payments atomic.Uint64
	eventErrors, invalidations, rebuilds, rebuildErrors              atomic.Uint64
}

// New checks cfg and returns a Service. It starts nothing: call Run and
// serve Handler.
func New(cfg Config) (*Service, error) {
	bad := func(format string, args ...any) error { return fmt.Errorf("booking: config: "+format, args...) }
	switch {
	case cfg.Hotels == nil:
		return nil, bad("Hotels is required")
	case cfg.Reservations == nil:
		return nil, bad("Reservations is required")
	case cfg.Events == nil:
		return nil, bad("Events is required")
	case cfg.ViewTTL < 0 || cfg.QueryCacheTTL < 0:
		return nil, bad("negative ViewTTL or QueryCacheTTL")
	case cfg.ViewDays < 0 || cfg.ViewDays > MaxViewDays:
		return nil, bad("ViewDays %d: want 0 to %d", cfg.ViewDays, MaxViewDays)
	case cfg.InventoryDays < 0 || cfg.InventoryDays > reservation.MaxInventoryNights:
		return nil, bad("InventoryDays %d: want 0 to %d", cfg.InventoryDays, reservation.MaxInventoryNights)
	}
	s := &Service{
		hotels: cfg.Hotels, alarm: cfg.Alarm, source: cfg.SearchSource,
		hotelTopic: cfg.HotelTopic, bookingTopic: cfg.BookingTopic,
		viewDays: cfg.ViewDays, invDays: cfg.InventoryDays,
		newID: cfg.NewID, clock: cfg.Now, log: cfg.Logger, ops: cfg.Ops,
	}
	if s.hotelTopic == "" {
		s.hotelTopic = DefaultHotelTopic
	}
	if s.bookingTopic == "" {
		s.bookingTopic = DefaultBookingTopic
	}
	if s.viewDays == 0 {
		s.viewDays = DefaultViewDays
	}
	if s.invDays == 0 {
		s.invDays = DefaultInventoryDays
	}
	s.origin = []byte(rand.Text())
	if s.newID == nil {
		s.newID = func() string { return "h_" + strings.ToLower(rand.Text()[:20]) }
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ops == nil {
		s.ops = ops.New("booking")
		s.ops.Logger = s.log
	}

	ropts := cfg.Reservation
	ropts.Now, ropts.Alarm, ropts.Logger = s.clock, cfg.Alarm, s.log
	ropts.Emitter = reservation.EmitterFunc(s.emit)
	s.maxNights, s.maxQty = ropts.MaxNights, ropts.MaxQuantity
	if s.maxNights == 0 {
		s.maxNights = reservation.DefaultMaxNights
	}
	if s.maxQty == 0 {
		s.maxQty = reservation.DefaultMaxQuantity
	}
	var err error
	if s.res, err = reservation.New(cfg.Reservations, &ropts); err != nil {
		return nil, fmt.Errorf("booking: %w", err)
	}

	src := archivesource.New(s.res)
	s.live, s.cold = src, noRecords{}
	if cfg.Archive != nil {
		s.cold = cfg.Archive
		if s.arch, err = archive.New(src, cfg.Archive, &archive.Options{
			Age: cfg.ArchiveAge, Interval: cfg.ArchiveInterval, Now: s.clock, Logger: s.log,
		}); err != nil {
			return nil, fmt.Errorf("booking: %w", err)
		}
	}

	qttl := cfg.QueryCacheTTL
	if qttl == 0 {
		qttl = DefaultQueryCacheTTL
	}
	if s.index, err = search.New(&search.Options{
		FieldWeights: FieldWeights, Cache: cfg.QueryCache, CacheTTL: qttl, CachePrefix: "hotels:",
	}); err != nil {
		return nil, fmt.Errorf("booking: %w", err)
	}
	if cfg.HotelReceiver != nil {
		s.feed = eventfeed.New(s.index, cfg.HotelReceiver, &eventfeed.Options{Logger: s.log})
	}
	if cfg.BookingReceiver != nil {
		s.sub = events.NewSubscriber(cfg.BookingReceiver, s.handleBookingEvent, nil)
	}
	s.pub = events.NewPublisher(cfg.Events, &events.PublisherOptions{Now: s.clock})

	vstore := cfg.ViewCache
	if vstore == nil {
		vstore = cachemem.New(&cachemem.Options{Now: s.clock, MaxEntries: 10_000})
	}
	vttl := cfg.ViewTTL
	if vttl == 0 {
		vttl = DefaultViewTTL
	}
	if s.view, err = cache.New(vstore, ViewCodec{}, s.loadView, &cache.Options{
		TTL: vttl, NegativeTTL: -1, Now: s.clock, Logger: s.log,
		IsNotFound: func(err error) bool { return errors.Is(err, ErrNotFound) },
	}); err != nil {
		return nil, fmt.Errorf("booking: %w", err)
	}
	s.handler = s.routes()
	s.registerStats()
	return s, nil
}

// Reservations returns the reservation service behind the bookings.
func (s *Service) Reservations() *reservation.Service { return s.res }

// Index returns the search index of hotels.
func (s *Service) Index() *search.Index { return s.index }

// Handler returns the HTTP API (see the README).
func (s *Service) Handler() http.Handler { return s.handler }

// Run runs the background work until ctx ends: the reservation sweeper
// (and the alarm's listener), the archiver, a rebuild of the search index from
// SearchSource (unless Rebuild already succeeded) followed by the
// change-event feed, and the consumer that
// invalidates management views on booking events. It returns nil when ctx
// ends, or the first error of a part that cannot go on.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("booking: already running")
	}
	defer s.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	start := func(f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				once.Do(func() { first = err })
				cancel()
			}
		})
	}
	start(func() error { return s.res.Run(ctx) })
	if r, ok := s.alarm.(interface {
		Run(ctx context.Context, wake func()) error
	}); ok {
		start(func() error { return r.Run(ctx, s.res.Wake) })
	}
	start(func() error {
		if s.source != nil && s.c.rebuilds.Load() == 0 {
			if err := s.Rebuild(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("search rebuild failed", "err", err)
			}
		}
		if s.feed == nil {
			return nil
		}
		return s.feed.Run(ctx)
	})
	if s.sub != nil {
		start(func() error { return s.sub.Run(ctx) })
	}
	if s.arch != nil {
		start(func() error { return s.arch.Run(ctx) })
	}
	wg.Wait()
	return first
}

// Rebuild replaces the search index with the hotels of the database
// (Config.SearchSource), beside live traffic.
func (s *Service) Rebuild(ctx context.Context) error {
	if s.source == nil {
		return errors.New("booking: no search source to rebuild from")
	}
	if err := s.index.Rebuild(ctx, s.source); err != nil {
		s.c.rebuildErrors.Add(1)
		return fmt.Errorf("booking: rebuild: %w", err)
	}
	s.c.rebuilds.Add(1)
	return nil
}

func (s *Service) today() reservation.Date { return reservation.DateFromTime(s.clock().UTC()) }

// ---- hotels ----

// CreateHotel onboards h and returns it as stored, with its ID (from
// Config.NewID unless h.ID is set) and version 1.
func (s *Service) CreateHotel(ctx context.Context, h Hotel) (Hotel, error) {
	if h.ID == "" {
		h.ID = s.newID()
	} else if err := CheckID("id", h.ID); err != nil {
		return Hotel{}, err
	}
	h, err := h.normalize()
	if err != nil {
		return Hotel{}, err
	}
	h.Rooms, h.Version, h.Updated = nil, 1, s.clock().UTC()
	if err := s.hotels.CreateHotel(ctx, h); err != nil {
		return Hotel{}, err
	}
	s.c.hotelsCreated.Add(1)
	s.publishHotel(ctx, h, true)
	return h, nil
}

// Hotel returns the hotel with its rooms.
func (s *Service) Hotel(ctx context.Context, id string) (Hotel, error) {
	if err := CheckID("id", id); err != nil {
		return Hotel{}, fmt.Errorf("booking: hotel %q: %w", id, ErrNotFound)
	}
	return s.hotels.Hotel(ctx, id)
}

// UpdateHotel replaces the fields of hotel id (not its rooms) with those
// of h and returns the hotel as stored.
func (s *Service) UpdateHotel(ctx context.Context, id string, h Hotel) (Hotel, error) {
	if err := CheckID("id", id); err != nil {
		return Hotel{}, fmt.Errorf("booking: hotel %q: %w", id, ErrNotFound)
	}
	h, err := h.normalize()
	if err != nil {
		return Hotel{}, err
	}
	h.ID, h.Updated = id, s.clock().UTC()
	out, err := s.hotels.UpdateHotel(ctx, h)
	if err != nil {
		return Hotel{}, err
	}
	s.c.hotelsUpdated.Add(1)
	s.publishHotel(ctx, out, false)
	return out, nil
}

// PutRoom creates or replaces room roomID of hotel hotelID and offers its
// Quantity on each of the next InventoryDays nights. Lowering the
// quantity below the rooms already booked or held on some night fails
// with an error matching ErrRoomsCommitted and changes nothing.
func (s *Service) PutRoom(ctx context.Context, hotelID, roomID string, r Room) (Hotel, error) {
	if err := CheckID("hotel", hotelID); err != nil {
		return Hotel{}, fmt.Errorf("booking: hotel %q: %w", hotelID, ErrNotFound)
	}
	if err := CheckID("id", roomID); err != nil {
		return Hotel{}, err
	}
	r, err := r.normalize()
	if err != nil {
		return Hotel{}, err
	}
	r.ID, r.HotelID = roomID, hotelID
	if _, err := s.hotels.Hotel(ctx, hotelID); err != nil {
		return Hotel{}, err
	}
	switch old, err := s.hotels.Room(ctx, roomID); {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Hotel{}, err
	case old.HotelID != hotelID:
		return Hotel{}, fmt.Errorf("booking: room %s: %w", roomID, ErrRoomTaken)
	}
	if r.Active {
		today := s.today()
		err := s.res.SetInventory(ctx, roomID, today, today.AddDays(s.invDays), r.Quantity)
		if errors.Is(err, reservation.ErrInvalid) {
			return Hotel{}, fmt.Errorf("booking: room %s: %w", roomID, ErrRoomsCommitted)
		}
		if err != nil {
			return Hotel{}, err
		}
	}
	h, err := s.hotels.PutRoom(ctx, r, s.clock().UTC())
	if err != nil {
		return Hotel{}, err
	}
	s.c.roomsPut.Add(1)
	s.invalidate(ctx, hotelID)
	s.publishHotel(ctx, h, false)
	return h, nil
}

// publishHotel sends the change event of h to the search index. A failure
// is logged and counted: the index catches up at the next change of the
// hotel or the next rebuild.
func (s *Service) publishHotel(ctx context.Context, h Hotel, created bool) {
	ev := search.ChangeEvent{Op: search.OpUpdated, Doc: h.Listing().Document()}
	switch {
	case !h.Active:
		ev = search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: h.ID, Version: uint64(h.Version)}}
	case created:
		ev.Op = search.OpCreated
	}
	m, err := eventfeed.Encode(s.hotelTopic, ev)
	if err == nil {
		err = s.pub.Publish(context.WithoutCancel(ctx), m)
	}
	if err != nil {
		s.c.eventErrors.Add(1)
		s.log.Error("hotel event not published", "hotel", h.ID, "version", h.Version, "err", err)
	}
}

// ---- search ----

// SearchRequest is a hotel search.
type SearchRequest struct {
	Text     string
	Prefix   bool     // the last word is incomplete (search as you type)
	City     string   // filter, case-insensitive
	Country  string   // filter, case-insensitive
	MinPrice *float64 // filters on the lowest room price
	MaxPrice *float64
	Offset   int
	Limit    int // zero means 10, at most 100
}

// SearchHit is one hotel found.
type SearchHit struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	City      string   `json:"city"`
	PriceFrom *float64 `json:"price_from,omitempty"`
	Typos     int      `json:"typos"`
}

// SearchResult is a page of hits.
type SearchResult struct {
	Hits  []SearchHit `json:"hits"`
	Total int         `json:"total"`
}

// Search finds hotels with typo tolerance ("airprot" finds "Airport
// Inn").
func (s *Service) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	switch {
	case len(req.Text) > 256:
		return SearchResult{}, invalid("invalid_query", "q", "at most 256 bytes")
	case req.Limit < 0 || req.Limit > 100:
		return SearchResult{}, invalid("invalid_limit", "limit", "want 1 to 100")
	case req.Offset < 0 || req.Offset > 10_000:
		return SearchResult{}, invalid("invalid_offset", "offset", "want 0 to 10000")
	}
	q := search.Query{Text: req.Text, Prefix: req.Prefix, Offset: req.Offset, Limit: req.Limit}
	if req.City != "" || req.Country != "" {
		q.Filter.Tags = map[string][]string{}
		if req.City != "" {
			q.Filter.Tags["city"] = []string{strings.ToLower(req.City)}
		}
		if req.Country != "" {
			q.Filter.Tags["country"] = []string{strings.ToLower(req.Country)}
		}
	}
	if req.MinPrice != nil || req.MaxPrice != nil {
		r := search.Between("price", 0, 1e18)
		if req.MinPrice != nil {
			r.Min = *req.MinPrice
		}
		if req.MaxPrice != nil {
			r.Max = *req.MaxPrice
		}
		if !(r.Min <= r.Max) {
			return SearchResult{}, invalid("invalid_price", "max_price", "below min_price")
		}
		q.Filter.Ranges = []search.Range{r}
	}
	res, err := s.index.Search(ctx, q)
	if errors.Is(err, search.ErrInvalidQuery) {
		return SearchResult{}, invalid("invalid_query", "", err.Error())
	}
	if err != nil {
		return SearchResult{}, err
	}
	out := SearchResult{Total: res.Total, Hits: make([]SearchHit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		hit := SearchHit{ID: h.Doc.ID, Name: h.Doc.Fields["name"], City: h.Doc.Fields["city"], Typos: h.Typos}
		if p, ok := h.Doc.Numbers["price"]; ok {
			hit.PriceFrom = &p
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

// ---- bookings ----

// BookRequest asks for Quantity rooms of Room for the nights CheckIn ..
// CheckOut-1 ("YYYY-MM-DD").
type BookRequest struct {
	User     string `json:"user"`
	Room     string `json:"room"`
	Quantity int    `json:"quantity"`
	CheckIn  string `json:"check_in"`
	CheckOut string `json:"check_out"`
}

func checkKey(key string) error {
	if key == "" || len(key) > reservation.MaxKeyLen {
		return invalid("invalid_idempotency_key", "Idempotency-Key", "want 1 to 255 printable ASCII characters")
	}
	for i := range len(key) {
		if key[i] <= ' ' || key[i] > '~' {
			return invalid("invalid_idempotency_key", "Idempotency-Key", "want 1 to 255 printable ASCII characters")
		}
	}
	return nil
}

// Book holds the rooms of req for payment (POST /bookings): a Reserved
// booking whose ExpiresAt is the payment deadline. key is the idempotency
// key: the same key and request return the same booking.
func (s *Service) Book(ctx context.Context, key string, req BookRequest) (reservation.Booking, error) {
	b, err := s.book(ctx, key, req)
	if err != nil {
		s.c.refused.Add(1)
		return reservation.Booking{}, err
	}
	s.c.holds.Add(1)
	return b, nil
}

func (s *Service) book(ctx context.Context, key string, req BookRequest) (reservation.Booking, error) {
	if err := checkKey(key); err != nil {
		return reservation.Booking{}, err
	}
	if err := CheckID("user", req.User); err != nil {
		return reservation.Booking{}, err
	}
	if err := CheckID("room", req.Room); err != nil {
		return reservation.Booking{}, err
	}
	if req.Quantity < 1 || req.Quantity > s.maxQty {
		return reservation.Booking{}, invalid("invalid_quantity", "quantity", fmt.Sprintf("want 1 to %d rooms", s.maxQty))
	}
	in, err := reservation.ParseDate(req.CheckIn)
	if err != nil {
		return reservation.Booking{}, invalid("invalid_date", "check_in", "want YYYY-MM-DD")
	}
	out, err := reservation.ParseDate(req.CheckOut)
	if err != nil {
		return reservation.Booking{}, invalid("invalid_date", "check_out", "want YYYY-MM-DD")
	}
	switch {
	case out <= in:
		return reservation.Booking{}, invalid("invalid_stay", "check_out", "must be after check_in")
	case int(out-in) > s.maxNights:
		return reservation.Booking{}, invalid("stay_too_long", "check_out", fmt.Sprintf("at most %d nights", s.maxNights))
	case in < s.today():
		return reservation.Booking{}, invalid("date_in_past", "check_in", "before today (UTC)")
	}
	room, err := s.hotels.Room(ctx, req.Room)
	if errors.Is(err, ErrNotFound) {
		return reservation.Booking{}, invalid("unknown_room", "room", "no such room")
	}
	if err != nil {
		return reservation.Booking{}, err
	}
	if !room.Active {
		return reservation.Booking{}, invalid("room_inactive", "room", "the room is not offered")
	}
	return s.res.Hold(ctx, reservation.HoldRequest{
		Key: key, User: req.User, Room: req.Room, Quantity: req.Quantity, CheckIn: in, CheckOut: out,
	})
}

// Booking returns the booking with the given ID from the availability
// database (live bookings only; see [Service.BookingDetail]).
func (s *Service) Booking(ctx context.Context, id string) (reservation.Booking, error) {
	if len(id) == 0 || len(id) > reservation.MaxIDLen {
		return reservation.Booking{}, fmt.Errorf("booking: booking %q: %w", id, ErrNotFound)
	}
	b, err := s.res.Get(ctx, id)
	if errors.Is(err, reservation.ErrNotFound) {
		return reservation.Booking{}, fmt.Errorf("booking: booking %s: %w", id, ErrNotFound)
	}
	return b, err
}

// MaxArchiveScan is how many archived bookings of one user
// [Service.BookingDetail] reads at most to find one booking, and how many
// of a user's bookings made after a cancelled hold it reads at most to
// find the hold's rebooking.
const MaxArchiveScan = 10_000

// archivePage is the page size of those scans.
const archivePage = 500

// BookingDetail returns the booking with the given ID as GET
// /bookings/{id} shows it.
//
// A live booking comes from the availability database. A hold cancelled
// by expiry or by a failed payment that a late payment rebooked carries
// the new booking's ID in RebookedAs. A booking moved to the archive is
// no longer in the availability database, and its ID says nothing of its
// user, while the archive is partitioned by user: with user set (?user=
// in the API) it is looked up among that user's archived bookings (at
// most MaxArchiveScan of them, newest first) and returned with Archived
// set; without it, or when user is not its owner, the answer is
// ErrNotFound.
func (s *Service) BookingDetail(ctx context.Context, id, user string) (BookingView, error) {
	if user != "" {
		if err := CheckID("user", user); err != nil {
			return BookingView{}, err
		}
	}
	b, err := s.Booking(ctx, id)
	if errors.Is(err, ErrNotFound) && user != "" {
		return s.archived(ctx, id, user)
	}
	if err != nil {
		return BookingView{}, err
	}
	v := ViewOf(b)
	if rebookable(b) {
		if v.RebookedAs, err = s.rebookedAs(ctx, b); err != nil {
			return BookingView{}, err
		}
	}
	return v, nil
}

// archived finds booking id among the archived bookings of user.
func (s *Service) archived(ctx context.Context, id, user string) (BookingView, error) {
	var cur archive.Cursor
	for read := 0; read < MaxArchiveScan; {
		recs, err := s.cold.List(ctx, user, cur, archivePage)
		if err != nil {
			return BookingView{}, err
		}
		for _, r := range recs {
			if r.ID != id {
				continue
			}
			b, err := archivesource.Decode(r)
			if err != nil {
				return BookingView{}, err
			}
			v := ViewOf(b)
			v.Archived = true
			return v, nil
		}
		if len(recs) < archivePage {
			break
		}
		read += len(recs)
		cur = archive.Of(recs[len(recs)-1])
	}
	return BookingView{}, fmt.Errorf("booking: booking %s: not live, and not among the archived bookings of %s: %w", id, user, ErrNotFound)
}

// rebookable reports whether a success payment for b follows the late
// payment policy of the reservation block: b is a hold cancelled without
// its user's say (its deadline passed, or its payment was reported
// failed) and no payment was recorded on it.
func rebookable(b reservation.Booking) bool {
	return b.State == reservation.Cancelled && b.PaymentID == "" &&
		(b.Reason == reservation.ReasonExpired || b.Reason == reservation.ReasonPaymentFailed)
}

// rebookedAs returns the ID of the booking that rebooked the cancelled
// hold b, or "": it reads the user's bookings, live and archived, newest
// first, down to b's creation (a rebooking is created after its hold).
func (s *Service) rebookedAs(ctx context.Context, b reservation.Booking) (string, error) {
	var cur archive.Cursor
	for read := 0; read < MaxArchiveScan; {
		recs, next, err := archive.Merge(ctx, b.User, cur, archivePage, s.live, s.cold)
		if err != nil {
			return "", err
		}
		for _, r := range recs {
			if r.At.Before(b.Created.UTC().Truncate(time.Microsecond)) {
				return "", nil
			}
			if r.ID == b.ID {
				continue
			}
			nb, err := archivesource.Decode(r)
			if err != nil {
				return "", err
			}
			if nb.Rebooks == b.ID {
				return nb.ID, nil
			}
		}
		if next.IsZero() {
			break
		}
		read += len(recs)
		cur = next
	}
	return "", nil
}

// Payment is the callback of the payment provider.
type Payment struct {
	Status    string `json:"status"`               // "success" or "failure"
	PaymentID string `json:"payment_id,omitempty"` // the provider's charge ID; empty means one per booking
}

// Pay applies a payment callback (POST /bookings/{id}/payment) and returns
// the booking the payment ends in.
//
// Success books the hold (reservation Confirm). After the hold's
// deadline it follows the reservation block's late-payment policy, also
// once the sweeper has cancelled the hold (and after a failure was
// reported: a reordered callback): the stay is booked if every night is
// still free, as a new booking whose Rebooks names the hold when the hold
// was already cancelled; otherwise the hold is cancelled with
// RefundRequired set and the payment recorded on it. Both outcomes are
// answered without error, since the payment was taken: the returned
// booking says which. A repeated identical callback returns the same
// booking again. A different payment for a booking that already has one
// returns it with an error matching reservation.ErrDuplicatePayment; a
// success for a booking cancelled by its user (or completed without a
// payment) an error matching ErrFinal. Failure releases a live hold (Fail);
// for a cancelled or completed booking it returns an error matching
// ErrFinal, and for a paid one an error matching reservation.ErrState.
// Every error leaves the booking unchanged.
func (s *Service) Pay(ctx context.Context, id string, p Payment) (reservation.Booking, error) {
	if p.Status != "success" && p.Status != "failure" {
		return reservation.Booking{}, invalid("invalid_status", "status", `want "success" or "failure"`)
	}
	if p.PaymentID == "" {
		p.PaymentID = "pay_" + id
	} else if err := checkKey(p.PaymentID); err != nil {
		return reservation.Booking{}, invalid("invalid_payment_id", "payment_id", "want 1 to 255 printable ASCII characters")
	}
	b, err := s.Booking(ctx, id)
	if err != nil {
		return reservation.Booking{}, err
	}
	if p.Status == "failure" {
		if b.State.Terminal() {
			return b, fmt.Errorf("booking: payment failure for %s: booking is %s: %w", id, b.State, ErrFinal)
		}
		s.c.payments.Add(1)
		return s.res.Fail(ctx, id)
	}
	// A terminal booking takes a success only under the late-payment
	// policy, or as the replay of the payment it already carries (a
	// different one is a duplicate, refused by Confirm).
	if b.State.Terminal() && b.PaymentID == "" && !rebookable(b) {
		return b, fmt.Errorf("booking: payment for %s: booking is %s (%s): %w", id, b.State, b.Reason, ErrFinal)
	}
	s.c.payments.Add(1)
	nb, err := s.res.Confirm(ctx, id, reservation.Payment{ID: p.PaymentID})
	if errors.Is(err, reservation.ErrRefundRequired) {
		return nb, nil // recorded: the booking says refund_required
	}
	return nb, err
}

// ---- booking events and the management view ----

// BookingEvent is the message of a booking change on BookingTopic.
type BookingEvent struct {
	Type    reservation.EventType `json:"type"`
	Hotel   string                `json:"hotel"`
	Booking BookingView           `json:"booking"`
	At      time.Time             `json:"at"`
}

// emit is the reservation block's Emitter: it invalidates the hotel's
// view here and publishes the event for the other processes and for
// analytics.
func (s *Service) emit(ctx context.Context, e reservation.Event) error {
	ctx = context.WithoutCancel(ctx)
	hotel := ""
	if r, err := s.hotels.Room(ctx, e.Booking.Room); err == nil {
		hotel = r.HotelID
		s.invalidate(ctx, hotel)
	}
	v, err := json.Marshal(BookingEvent{Type: e.Type, Hotel: hotel, Booking: ViewOf(e.Booking), At: e.At})
	if err != nil {
		return err
	}
	if err := s.pub.Publish(ctx, events.Message{Topic: s.bookingTopic, Key: []byte(e.Booking.ID), Value: v, Time: e.At,
		Headers: []events.Header{{Key: originHeader, Value: s.origin}}}); err != nil {
		s.c.eventErrors.Add(1)
		return err
	}
	return nil
}

// originHeader names the process that published a booking event.
const originHeader = "origin"

// handleBookingEvent invalidates the view of the event's hotel, unless
// this process published the event and so invalidated it already.
func (s *Service) handleBookingEvent(ctx context.Context, m *events.Message) error {
	if o, ok := m.Header(originHeader); ok && string(o) == string(s.origin) {
		return nil
	}
	var e BookingEvent
	if err := json.Unmarshal(m.Value, &e); err != nil || e.Hotel == "" {
		return nil // not ours to fix: skip
	}
	s.invalidate(ctx, e.Hotel)
	return nil
}

func (s *Service) viewKey(hotel string) string { return "view:" + hotel + ":" + s.today().String() }

func (s *Service) invalidate(ctx context.Context, hotel string) {
	if err := s.view.Delete(context.WithoutCancel(ctx), s.viewKey(hotel)); err != nil {
		s.log.Warn("view invalidation failed", "hotel", hotel, "err", err)
		return
	}
	s.c.invalidations.Add(1)
}

// View is the management view of a hotel: for each room, the rooms
// offered, available and taken (booked or held) on each night from From
// to To-1, and the current bookings (stays and live holds) on those
// nights.
type View struct {
	Hotel     string           `json:"hotel"`
	From      reservation.Date `json:"from"`
	To        reservation.Date `json:"to"`
	Rooms     []RoomView       `json:"rooms"`
	Generated time.Time        `json:"generated"`
}

// RoomView is one room of a View: its counts per night and the current
// bookings behind them.
type RoomView struct {
	Room   string      `json:"room"`
	Name   string      `json:"name"`
	Nights []NightView `json:"nights"`
	// Bookings are the room's Booked stays and live holds whose nights
	// overlap the view, by check-in (at most MaxViewBookings; More is set
	// when there are others).
	Bookings []ViewBooking `json:"bookings"`
	More     bool          `json:"more_bookings,omitempty"`
}

// MaxViewBookings is how many bookings of one room a View lists.
const MaxViewBookings = 500

// ViewBooking is one current booking of a View.
type ViewBooking struct {
	ID       string            `json:"id"`
	User     string            `json:"user"`
	Room     string            `json:"room"`
	CheckIn  reservation.Date  `json:"check_in"`
	CheckOut reservation.Date  `json:"check_out"`
	Nights   int               `json:"nights"`
	Quantity int               `json:"quantity"`
	State    reservation.State `json:"state"`
	// ExpiresAt is the payment deadline of a hold (state reserved).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// NightView is one night of a room.
type NightView struct {
	Date      reservation.Date `json:"date"`
	Offered   int              `json:"offered"`
	Available int              `json:"available"`
	Taken     int              `json:"taken"`
}

// CurrentBookings returns the management view of hotel id from the cache
// (Config.ViewCache), loading it from the availability database only on
// a miss. Booking events and room changes invalidate it.
func (s *Service) CurrentBookings(ctx context.Context, id string) (View, error) {
	if err := CheckID("id", id); err != nil {
		return View{}, fmt.Errorf("booking: hotel %q: %w", id, ErrNotFound)
	}
	v, err := s.view.Get(ctx, s.viewKey(id))
	if errors.Is(err, cache.ErrNotFound) {
		return View{}, fmt.Errorf("booking: hotel %s: %w", id, ErrNotFound)
	}
	return v, err
}

func (s *Service) loadView(ctx context.Context, key string) (View, error) {
	id := strings.TrimPrefix(key, "view:")
	id = id[:strings.IndexByte(id, ':')]
	h, err := s.hotels.Hotel(ctx, id)
	if err != nil {
		return View{}, err
	}
	from := s.today()
	v := View{Hotel: id, From: from, To: from.AddDays(s.viewDays), Rooms: []RoomView{}, Generated: s.clock().UTC()}
	for _, r := range h.Rooms {
		nights, err := s.res.Availability(ctx, r.ID, v.From, v.To)
		if err != nil {
			return View{}, err
		}
		list, err := s.res.RoomBookings(ctx, r.ID, v.From, v.To, MaxViewBookings+1)
		if err != nil {
			return View{}, err
		}
		rv := RoomView{Room: r.ID, Name: r.Name, Nights: make([]NightView, 0, len(nights)),
			Bookings: make([]ViewBooking, 0, min(len(list), MaxViewBookings)), More: len(list) > MaxViewBookings}
		for _, n := range nights {
			rv.Nights = append(rv.Nights, NightView{Date: n.Date, Offered: n.Initial, Available: n.Available, Taken: n.Initial - n.Available})
		}
		for _, b := range list[:min(len(list), MaxViewBookings)] {
			rv.Bookings = append(rv.Bookings, viewBooking(b))
		}
		v.Rooms = append(v.Rooms, rv)
	}
	return v, nil
}

func viewBooking(b reservation.Booking) ViewBooking {
	vb := ViewBooking{ID: b.ID, User: b.User, Room: b.Room, CheckIn: b.CheckIn, CheckOut: b.CheckOut,
		Nights: b.Nights(), Quantity: b.Quantity, State: b.State}
	if b.State == reservation.Reserved {
		e := b.ExpiresAt.UTC().Truncate(time.Microsecond)
		vb.ExpiresAt = &e
	}
	return vb
}

// BookingView is the JSON form of a booking.
type BookingView struct {
	ID             string            `json:"id"`
	User           string            `json:"user"`
	Room           string            `json:"room"`
	Quantity       int               `json:"quantity"`
	CheckIn        reservation.Date  `json:"check_in"`
	CheckOut       reservation.Date  `json:"check_out"`
	State          reservation.State `json:"state"`
	Reason         string            `json:"reason,omitempty"`
	ExpiresAt      *time.Time        `json:"expires_at,omitempty"`
	PaymentID      string            `json:"payment_id,omitempty"`
	InvoiceID      string            `json:"invoice_id,omitempty"`
	RefundRequired bool              `json:"refund_required,omitempty"`
	Rebooks        string            `json:"rebooks,omitempty"`
	// RebookedAs, on a hold cancelled by expiry or a failed payment, is
	// the booking that a late payment made of it (GET /bookings/{id}).
	RebookedAs string `json:"rebooked_as,omitempty"`
	// Archived is set on a booking read from the archive.
	Archived bool      `json:"archived,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// ViewOf returns the JSON form of b. Times are truncated to microseconds,
// the precision of the SQL store, so that every answer about one booking
// shows the same times.
func ViewOf(b reservation.Booking) BookingView {
	b.Created, b.Updated = b.Created.Truncate(time.Microsecond), b.Updated.Truncate(time.Microsecond)
	v := BookingView{
		ID: b.ID, User: b.User, Room: b.Room, Quantity: b.Quantity, CheckIn: b.CheckIn, CheckOut: b.CheckOut,
		State: b.State, Reason: string(b.Reason), PaymentID: b.PaymentID, InvoiceID: b.InvoiceID,
		RefundRequired: b.RefundRequired, Rebooks: b.Rebooks, Created: b.Created, Updated: b.Updated,
	}
	if b.State == reservation.Reserved {
		e := b.ExpiresAt.Truncate(time.Microsecond)
		v.ExpiresAt = &e
	}
	return v
}

// ---- stats ----

// Stats returns a snapshot of the service's counters.
func (s *Service) Stats() map[string]float64 {
	return map[string]float64{
		"hotels_created": float64(s.c.hotelsCreated.Load()), "hotels_updated": float64(s.c.hotelsUpdated.Load()),
		"rooms_put": float64(s.c.roomsPut.Load()), "holds": float64(s.c.holds.Load()),
		"holds_refused": float64(s.c.refused.Load()), "payments": float64(s.c.payments.Load()),
		"event_errors": float64(s.c.eventErrors.Load()), "view_invalidations": float64(s.c.invalidations.Load()),
		"rebuilds": float64(s.c.rebuilds.Load()), "rebuild_errors": float64(s.c.rebuildErrors.Load()),
	}
}

func (s *Service) registerStats() {
	s.ops.AddStats("booking", "hotel booking service", s.Stats,
		"hotels_created", "hotels_updated", "rooms_put", "holds", "holds_refused", "payments",
		"event_errors", "view_invalidations", "rebuilds", "rebuild_errors")
	s.ops.AddStats("booking_reservation", "holds, payments and the sweeper", func() map[string]float64 {
		st := s.res.Stats()
		return map[string]float64{"holds": float64(st.Holds), "replays": float64(st.Replays), "sold_out": float64(st.SoldOut),
			"booked": float64(st.Booked), "late_booked": float64(st.LateBooked), "cancelled": float64(st.Cancelled),
			"expired": float64(st.Expired), "completed": float64(st.Completed), "sweeps": float64(st.Sweeps)}
	}, "holds", "replays", "sold_out", "booked", "late_booked", "cancelled", "expired", "completed", "sweeps")
	s.ops.AddStats("booking_view_cache", "management view cache", func() map[string]float64 {
		st := s.view.Stats()
		return map[string]float64{"hits": float64(st.Hits), "misses": float64(st.Misses), "loads": float64(st.Loads),
			"store_errors": float64(st.StoreErrors)}
	}, "hits", "misses", "loads", "store_errors")
	if s.feed != nil {
		s.ops.AddStats("booking_search_feed", "hotel change events applied to the index", func() map[string]float64 {
			st := s.feed.Stats()
			return map[string]float64{"applied": float64(st.Applied), "stale": float64(st.Stale),
				"invalid": float64(st.Invalid), "commits": float64(st.Commits)}
		}, "applied", "stale", "invalid", "commits")
	}
	if s.sub != nil {
		s.ops.AddStats("booking_view_events", "booking events invalidating management views", func() map[string]float64 {
			st := s.sub.Stats()
			return map[string]float64{"fetched": float64(st.Fetched), "handled": float64(st.Handled),
				"failures": float64(st.Failures), "committed": float64(st.Committed), "commit_errors": float64(st.CommitErrors)}
		}, "fetched", "handled", "failures", "committed", "commit_errors")
	}
	if s.arch != nil {
		s.ops.AddStats("booking_archive", "finished bookings moved to the history store", func() map[string]float64 {
			st := s.arch.Stats()
			return map[string]float64{"passes": float64(st.Passes), "errors": float64(st.Errors), "moved": float64(st.Moved)}
		}, "passes", "errors", "moved")
	}
	s.ops.AddStats("booking_search", "hotel search index", func() map[string]float64 {
		st := s.index.Stats()
		return map[string]float64{"docs": float64(st.Docs), "applied": float64(st.Applied), "stale": float64(st.Stale),
			"cache_hits": float64(st.CacheHits), "cache_misses": float64(st.CacheMisses)}
	}, "applied", "stale", "cache_hits", "cache_misses")
}
