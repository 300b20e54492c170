package shortener

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/shortid"
	"github.com/sysblocks/sysblocks/tokenrange"
)

// Defaults of Config fields left at zero.
const (
	DefaultRedirectStatus = http.StatusFound
	DefaultClickTopic     = "urlshortener.clicks"
	DefaultCountryHeader  = "CF-IPCountry"
	DefaultCacheTTL       = time.Hour
	DefaultCreateRate     = 1.0
	DefaultCreateBurst    = 20
	DefaultCountFlush     = time.Second
)

// maxPending is the number of distinct (code, day) sums that makes the
// consumer flush before CountFlush.
const maxPending = 10_000

// Config wires a Service. Codec, Leaser, Links, Counts and Clicks are
// required; every other zero field means the default it documents.
type Config struct {
	// BaseURL is the public root of short links, such as
	// "https://sho.rt": a link's short_url is BaseURL + "/" + code. Its
	// host is the shortener's own: links to it are refused as loops.
	// Empty means "http://localhost:8080".
	BaseURL string
	// OwnHosts lists further host names that reach this service (another
	// domain, a load balancer's name); links to them are refused too.
	OwnHosts []string

	// Codec turns tokens into generated codes; its length is the length of
	// every generated code.
	Codec *shortid.Codec
	// Leaser hands out the tokens of generated codes. Run runs its
	// background refill; the caller keeps ownership and closes it.
	Leaser *tokenrange.Leaser
	// Reserved lists the words no alias may be; nil means
	// shortid.DefaultReserved() (api, healthz, metrics, admin, ...).
	Reserved []string

	// Links stores the links: memstore, or cqlstore on Cassandra.
	Links LinkStore
	// Cache, when set, is the store of a cache.Cache in front of Links on
	// the redirect path (Redis in the real setup). Nil reads Links
	// directly, which is right when Links is in memory.
	Cache cache.Store
	// CacheTTL is how long a resolved code stays cached. Zero means
	// DefaultCacheTTL (1 hour). Unknown codes are cached as absent for
	// cache.DefaultNegativeTTL; creating a link overwrites that entry.
	CacheTTL time.Duration

	// Clicks receives click events, batched by an events.BatchPublisher
	// (lossy: when the queue is full, clicks are dropped and counted).
	Clicks events.Sender
	// ClickTopic is the topic of click events. Empty means
	// DefaultClickTopic.
	ClickTopic string
	// ClickBatch is M, the records per flush of click events. Zero means
	// 1000.
	ClickBatch int
	// ClickDelay is T, the longest a click waits for a flush. Zero means 1s.
	ClickDelay time.Duration
	// ClickQueue bounds the clicks waiting for a flush; beyond it clicks
	// are dropped. Zero means 10*ClickBatch.
	ClickQueue int
	// ClickReceiver is the consumer group that aggregates clicks into
	// Counts. Nil runs no consumer in this process (another one may).
	ClickReceiver events.Receiver
	// ConsumerConcurrency is the number of goroutines handling click
	// events. Zero means 1.
	ConsumerConcurrency int
	// CountFlush is how often the consumer writes its aggregated counts to
	// Counts: clicks are summed per code and day in memory and written as
	// one increment per code and day per flush. Zero means
	// DefaultCountFlush (1s). A crash loses at most the clicks of one
	// interval, which lossy analytics accepts.
	CountFlush time.Duration
	// Counts keeps clicks per code per day.
	Counts ClickCounts
	// BotAgents are user-agent substrings, in lower case, of clients whose
	// clicks are not counted. Nil means DefaultBotAgents().
	BotAgents []string
	// CountryHeader is the request header holding the client's country
	// code, set by a CDN or proxy. Empty means DefaultCountryHeader
	// (CF-IPCountry).
	CountryHeader string

	// RedirectStatus is the status of redirects: 301, 302, 307 or 308.
	// Zero means 302.
	RedirectStatus int

	// CreateRate is how many links per second one client address may
	// create after its burst. Zero means DefaultCreateRate (1); negative
	// means no limit.
	CreateRate float64
	// CreateBurst is how many links a client may create at once. Zero
	// means DefaultCreateBurst (20).
	CreateBurst int
	// TrustProxy takes the client address from the rightmost
	// X-Forwarded-For entry: set it only behind a reverse proxy that
	// appends to that header.
	TrustProxy bool

	// Now is the clock of creation, expiry, rate limits and clicks. Nil
	// means time.Now.
	Now func() time.Time
	// Logger receives the service's records. Nil discards them.
	Logger *slog.Logger
	// Ops receives health checks and metrics and serves /healthz and
	// /metrics. Nil makes a private one.
	Ops *ops.Ops
}

// Service is the URL shortener: an HTTP API for links, the redirect path,
// click publishing and the click consumer. It is safe for concurrent use.
type Service struct {
	codec         *shortid.Codec
	alias         *shortid.Alias
	leaser        *tokenrange.Leaser
	links         LinkStore
	counts        ClickCounts
	cache         *cache.Cache[entry] // nil: read links directly
	batch         *events.BatchPublisher
	sub           *events.Subscriber // nil: no consumer here
	targets       *targetRules
	limiter       *limiter
	base          string
	status        int
	trustProxy    bool
	countryHeader string
	bots          [][]byte
	now           func() time.Time
	log           *slog.Logger
	ops           *ops.Ops
	handler       http.Handler
	running       atomic.Bool
	countFlush    time.Duration
	fullSpace     bool // the codec's space is all of 62^length

	pmu      sync.Mutex
	pending  *sums // clicks handled, not yet written to counts
	npend    int64
	flushNow chan struct{}

	created, redirects, notFound, expired, badCodes, rateLimited, storeErrors atomic.Uint64
	clicksCounted, botsSkipped, badEvents                                     atomic.Uint64
}

// New checks cfg and returns a Service. It starts nothing: call Run for the
// background jobs (leaser refill, click flusher, click consumer) and serve
// Handler.
func New(cfg Config) (*Service, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("shortener: config: "+format, args...)
	}
	switch {
	case cfg.Codec == nil:
		return nil, bad("Codec is required")
	case cfg.Leaser == nil:
		return nil, bad("Leaser is required")
	case cfg.Links == nil:
		return nil, bad("Links is required")
	case cfg.Counts == nil:
		return nil, bad("Counts is required")
	case cfg.Clicks == nil:
		return nil, bad("Clicks is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.User != nil {
		return nil, bad("BaseURL %q: want http(s)://host[:port][/path]", cfg.BaseURL)
	}
	switch cfg.RedirectStatus {
	case 0:
		cfg.RedirectStatus = DefaultRedirectStatus
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, bad("RedirectStatus %d: want 301, 302, 307 or 308", cfg.RedirectStatus)
	}
	if cfg.CreateRate == 0 {
		cfg.CreateRate = DefaultCreateRate
	}
	if cfg.CreateBurst <= 0 {
		cfg.CreateBurst = DefaultCreateBurst
	}
	if cfg.ClickTopic == "" {
		cfg.ClickTopic = DefaultClickTopic
	}
	if cfg.CountryHeader == "" {
		cfg.CountryHeader = DefaultCountryHeader
	}
	if cfg.BotAgents == nil {
		cfg.BotAgents = DefaultBotAgents()
	}
	if cfg.CountFlush <= 0 {
		cfg.CountFlush = DefaultCountFlush
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ops == nil {
		cfg.Ops = ops.New("urlshortener")
		cfg.Ops.Logger = cfg.Logger
	}
	alias, err := shortid.NewAlias(&shortid.AliasOptions{CodeLength: cfg.Codec.Length(), Reserved: cfg.Reserved})
	if err != nil {
		return nil, bad("alias rules: %v", err)
	}
	bots := make([][]byte, len(cfg.BotAgents))
	for i, b := range cfg.BotAgents {
		bots[i] = []byte(strings.ToLower(b))
	}
	s := &Service{
		codec:         cfg.Codec,
		alias:         alias,
		leaser:        cfg.Leaser,
		links:         cfg.Links,
		counts:        cfg.Counts,
		targets:       newTargetRules(base.Host, cfg.OwnHosts),
		limiter:       newLimiter(cfg.CreateRate, cfg.CreateBurst, 100_000),
		base:          strings.TrimSuffix(base.String(), "/"),
		status:        cfg.RedirectStatus,
		trustProxy:    cfg.TrustProxy,
		countryHeader: textproto.CanonicalMIMEHeaderKey(cfg.CountryHeader),
		bots:          bots,
		now:           cfg.Now,
		log:           cfg.Logger,
		ops:           cfg.Ops,
		countFlush:    cfg.CountFlush,
		fullSpace:     cfg.Codec.Space() == shortid.Capacity(cfg.Codec.Length()),
		pending:       newSums(),
		flushNow:      make(chan struct{}, 1),
	}
	if cfg.Cache != nil {
		s.cache, err = cache.New(cfg.Cache, entryCodec{}, s.load, &cache.Options{
			TTL:        cfg.CacheTTL,
			IsNotFound: func(err error) bool { return errors.Is(err, ErrNotFound) },
			Now:        cfg.Now,
			Logger:     cfg.Logger,
		})
		if err != nil {
			return nil, bad("cache: %v", err)
		}
	}
	s.batch = events.NewBatchPublisher(cfg.Clicks, &events.BatchOptions{
		Topic:      cfg.ClickTopic,
		MaxRecords: cfg.ClickBatch,
		MaxDelay:   cfg.ClickDelay,
		QueueSize:  cfg.ClickQueue,
		Now:        cfg.Now,
		Logger:     cfg.Logger,
	})
	if cfg.ClickReceiver != nil {
		s.sub = events.NewSubscriber(cfg.ClickReceiver, s.handleClick, &events.SubscriberOptions{
			Concurrency: cfg.ConsumerConcurrency,
			Logger:      cfg.Logger,
		})
	}
	s.handler = s.routes()
	s.registerStats()
	return s, nil
}

// Handler returns the HTTP API:
//
//	POST   /api/v1/links          {url, alias?, expires_at?} -> 201 {code, short_url, ...}
//	GET    /{code}                -> redirect (Location), 400, 404 or 410
//	GET    /api/v1/links/{code}   -> target, created, expiry, clicks
//	DELETE /api/v1/links/{code}   -> 204 or 404
//	GET    /healthz, GET /metrics
func (s *Service) Handler() http.Handler { return s.handler }

// Run runs the background jobs until ctx ends: the Leaser's refill, the
// click flusher (which flushes what is queued after ctx ends) and, with a
// ClickReceiver, the click consumer, rejoined with backoff if its adapter
// fails. It returns nil once all of them have stopped, or ErrRunning if Run
// is already running. Run starts goroutines and waits for all of them.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.leaser.Run(ctx); err != nil {
			s.log.Error("leaser refill stopped", "err", err)
		}
	})
	wg.Go(func() { _ = s.batch.Run(ctx) })
	if s.sub != nil {
		consumed := make(chan struct{})
		wg.Go(func() {
			defer close(consumed)
			s.consume(ctx)
		})
		wg.Go(func() { s.flushLoop(ctx, consumed) })
	}
	wg.Wait()
	return nil
}

// flushLoop writes the aggregated counts every CountFlush, or sooner when
// many are pending, and once more after the consumer has stopped.
func (s *Service) flushLoop(ctx context.Context, consumed <-chan struct{}) {
	t := time.NewTicker(s.countFlush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-consumed
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.flushCounts(fctx)
			cancel()
			return
		case <-t.C:
		case <-s.flushNow:
		}
		s.flushCounts(ctx)
	}
}

// flushCounts writes the pending sums; those that fail stay pending.
func (s *Service) flushCounts(ctx context.Context) {
	s.pmu.Lock()
	batch := s.pending
	if batch.len() == 0 {
		s.pmu.Unlock()
		return
	}
	s.pending = newSums()
	s.pmu.Unlock()
	failed := newSums()
	var lastErr error
	batch.each(func(day int64, code string, n int64) {
		if err := s.counts.Add(ctx, code, time.Unix(day, 0).UTC(), n); err != nil {
			failed.add(day, code, n)
			lastErr = err
			return
		}
		// Counted and pending move together under pmu, so that Stats never
		// sees a click in neither (or both).
		s.pmu.Lock()
		s.clicksCounted.Add(uint64(n))
		s.npend -= n
		s.pmu.Unlock()
	})
	if failed.len() > 0 {
		s.log.Warn("click counts not written; retrying at the next flush", "counters", failed.len(), "err", lastErr)
		s.pmu.Lock()
		failed.each(func(day int64, code string, n int64) { s.pending.add(day, code, n) })
		s.pmu.Unlock()
	}
}

// consume runs the click consumer until ctx ends, rejoining its group with
// backoff when the adapter fails.
func (s *Service) consume(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		err := s.sub.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("click consumer stopped; rejoining", "err", err, "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// handleClick aggregates one click event: bots are skipped, malformed
// events logged and skipped, and the rest added to the pending sum of
// their code and UTC day, which flushLoop writes to Counts.
func (s *Service) handleClick(ctx context.Context, m *events.Message) error {
	c, err := parseClick(m.Value)
	if err != nil {
		s.badEvents.Add(1)
		s.log.Warn("click event skipped", "err", err, "partition", m.Partition, "offset", m.Offset)
		return nil
	}
	if isBot(c.ua, s.bots) {
		s.botsSkipped.Add(1)
		return nil
	}
	day := Day(time.UnixMilli(c.ms)).Unix()
	s.pmu.Lock()
	s.pending.addBytes(day, c.code, 1)
	s.npend++
	many := s.pending.len() >= maxPending
	s.pmu.Unlock()
	if many {
		select {
		case s.flushNow <- struct{}{}:
		default:
		}
	}
	return nil
}

// entry is what the redirect path needs of a link, as cached.
type entry struct {
	target  string
	expires int64 // Unix nanoseconds; 0 means never
}

// entryCodec encodes an entry as 8 bytes of expiry and the target.
type entryCodec struct{}

func (entryCodec) Encode(e entry) ([]byte, error) {
	b := make([]byte, 8, 8+len(e.target))
	binary.BigEndian.PutUint64(b, uint64(e.expires))
	return append(b, e.target...), nil
}

func (entryCodec) Decode(b []byte) (entry, error) {
	if len(b) < 8 {
		return entry{}, errors.New("shortener: short cache entry")
	}
	return entry{expires: int64(binary.BigEndian.Uint64(b)), target: string(b[8:])}, nil
}

func entryOf(l *Link) entry {
	e := entry{target: l.Target}
	if !l.Expires.IsZero() {
		e.expires = l.Expires.UnixNano()
	}
	return e
}

// load is the cache's loader.
func (s *Service) load(ctx context.Context, code string) (entry, error) {
	l, err := s.links.Get(ctx, code)
	if err != nil {
		return entry{}, err
	}
	return entryOf(&l), nil
}

// lookup resolves a well-formed code through the cache, if any.
func (s *Service) lookup(ctx context.Context, code string) (entry, error) {
	if s.cache != nil {
		e, err := s.cache.Get(ctx, code)
		if err == cache.ErrNotFound {
			return entry{}, ErrNotFound
		}
		return e, err
	}
	l, err := s.links.Get(ctx, code)
	if err != nil {
		return entry{}, err
	}
	return entryOf(&l), nil
}

// Resolve returns the target of code as the redirect path does: an
// *InputError for a malformed code (without touching storage),
// ErrNotFound, ErrExpired, or a storage error.
func (s *Service) Resolve(ctx context.Context, code string) (string, error) {
	if err := s.checkCode(code); err != nil {
		return "", err
	}
	e, err := s.lookup(ctx, code)
	if err != nil {
		return "", err
	}
	if e.expires != 0 && s.now().UnixNano() >= e.expires {
		return "", ErrExpired
	}
	return e.target, nil
}

// CreateRequest is the body of POST /api/v1/links.
type CreateRequest struct {
	URL       string     `json:"url"`
	Alias     string     `json:"alias,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Create makes a link: under req.Alias when set (ErrExists if taken),
// otherwise under a generated code. Bad input returns an *InputError and
// stores nothing.
func (s *Service) Create(ctx context.Context, req CreateRequest) (Link, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.targets.check(req.URL); err != nil {
		return Link{}, err
	}
	l := Link{Target: req.URL, Created: now}
	if req.ExpiresAt != nil {
		exp := req.ExpiresAt.UTC().Truncate(time.Millisecond)
		if !exp.After(now) {
			return Link{}, &InputError{Field: "expires_at", Reason: ErrBadExpiry,
				Detail: fmt.Sprintf("%s is not in the future", exp.Format(time.RFC3339))}
		}
		l.Expires = exp
	}
	if req.Alias != "" {
		if err := s.alias.Validate(req.Alias); err != nil {
			return Link{}, &InputError{Field: "alias", Reason: ErrBadAlias, Detail: err.Error()}
		}
		l.Code, l.Alias = req.Alias, true
		if err := s.links.Claim(ctx, l); err != nil {
			return Link{}, err
		}
	} else {
		tok, err := s.leaser.Next(ctx)
		if err != nil {
			return Link{}, err
		}
		if l.Code, err = s.codec.Encode(tok); err != nil {
			return Link{}, err
		}
		if err := s.links.Put(ctx, l); err != nil {
			return Link{}, err
		}
	}
	s.created.Add(1)
	if s.cache != nil {
		// Overwrites a negative entry left by earlier lookups of the code.
		if err := s.cache.Set(ctx, l.Code, entryOf(&l)); err != nil {
			s.log.Warn("cache set failed", "code", l.Code, "err", err)
		}
	}
	s.log.Info("link created", "code", l.Code, "alias", l.Alias)
	return l, nil
}

// ShortURL returns the short link of code.
func (s *Service) ShortURL(code string) string { return s.base + "/" + code }

// LinkInfo is the body of GET /api/v1/links/{code}.
type LinkInfo struct {
	Code        string      `json:"code"`
	ShortURL    string      `json:"short_url"`
	Target      string      `json:"target"`
	Alias       bool        `json:"alias"`
	CreatedAt   time.Time   `json:"created_at"`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
	Expired     bool        `json:"expired"`
	Clicks      int64       `json:"clicks"`
	ClicksByDay []DayClicks `json:"clicks_by_day"`
}

// DayClicks is the click count of one UTC day.
type DayClicks struct {
	Day    string `json:"day"` // YYYY-MM-DD
	Clicks int64  `json:"clicks"`
}

// Info returns a link and its click counts, read from the stores (not the
// cache). An expired link is returned with Expired set.
func (s *Service) Info(ctx context.Context, code string) (LinkInfo, error) {
	if err := s.checkCode(code); err != nil {
		return LinkInfo{}, err
	}
	l, err := s.links.Get(ctx, code)
	if err != nil {
		return LinkInfo{}, err
	}
	days, err := s.counts.Days(ctx, code)
	if err != nil {
		return LinkInfo{}, err
	}
	info := LinkInfo{
		Code: l.Code, ShortURL: s.ShortURL(l.Code), Target: l.Target, Alias: l.Alias,
		CreatedAt: l.Created.UTC(), Expired: l.Expired(s.now()), ClicksByDay: []DayClicks{},
	}
	if !l.Expires.IsZero() {
		exp := l.Expires.UTC()
		info.ExpiresAt = &exp
	}
	for _, d := range days {
		info.Clicks += d.Clicks
		info.ClicksByDay = append(info.ClicksByDay, DayClicks{Day: d.Day.Format(time.DateOnly), Clicks: d.Clicks})
	}
	return info, nil
}

// Delete removes the link under code and invalidates its cache entry. It
// returns ErrNotFound when there is none.
func (s *Service) Delete(ctx context.Context, code string) error {
	if err := s.checkCode(code); err != nil {
		return err
	}
	if err := s.links.Delete(ctx, code); err != nil {
		return err
	}
	if s.cache != nil {
		if err := s.cache.Delete(ctx, code); err != nil {
			// The cached entry lives at most CacheTTL.
			s.log.Warn("cache delete failed", "code", code, "err", err)
		}
	}
	s.log.Info("link deleted", "code", code)
	return nil
}

// Stats is a snapshot of the service's counters and of the blocks it runs.
type Stats struct {
	Created, Redirects, NotFound, Expired, BadCodes, RateLimited, StoreErrors uint64
	// ClicksCounted (written to Counts), ClicksPending (summed, not yet
	// written), BotsSkipped and BadEvents count the consumer's work on
	// the click events handled in this process.
	ClicksCounted, ClicksPending, BotsSkipped, BadEvents uint64

	Leaser   tokenrange.LeaserStats
	Batch    events.BatchStats
	Consumer events.SubscriberStats
	Cache    cache.Stats
}

// Stats returns a snapshot of the counters.
func (s *Service) Stats() Stats {
	st := Stats{
		Created: s.created.Load(), Redirects: s.redirects.Load(), NotFound: s.notFound.Load(),
		Expired: s.expired.Load(), BadCodes: s.badCodes.Load(), RateLimited: s.rateLimited.Load(),
		StoreErrors: s.storeErrors.Load(),
		BotsSkipped: s.botsSkipped.Load(), BadEvents: s.badEvents.Load(),
		Leaser: s.leaser.Stats(), Batch: s.batch.Stats(),
	}
	if s.sub != nil {
		st.Consumer = s.sub.Stats()
	}
	s.pmu.Lock()
	st.ClicksCounted, st.ClicksPending = s.clicksCounted.Load(), uint64(s.npend)
	s.pmu.Unlock()
	if s.cache != nil {
		st.Cache = s.cache.Stats()
	}
	return st
}

// registerStats exports the counters on /metrics and the leaser on
// /healthz.
func (s *Service) registerStats() {
	o := s.ops
	o.AddStats("urlshortener", "URL shortener requests", func() map[string]float64 {
		st := s.Stats()
		return map[string]float64{
			"created_total": float64(st.Created), "redirects_total": float64(st.Redirects),
			"not_found_total": float64(st.NotFound), "expired_total": float64(st.Expired),
			"bad_codes_total": float64(st.BadCodes), "rate_limited_total": float64(st.RateLimited),
			"store_errors_total":   float64(st.StoreErrors),
			"clicks_counted_total": float64(st.ClicksCounted), "clicks_pending": float64(st.ClicksPending),
			"bots_skipped_total":     float64(st.BotsSkipped),
			"bad_click_events_total": float64(st.BadEvents),
		}
	}, "created_total", "redirects_total", "not_found_total", "expired_total", "bad_codes_total",
		"rate_limited_total", "store_errors_total", "clicks_counted_total", "bots_skipped_total", "bad_click_events_total")
	o.AddStats("urlshortener_leaser", "tokenrange.Leaser", func() map[string]float64 {
		st := s.leaser.Stats()
		return map[string]float64{
			"fetches_total": float64(st.Fetches), "fetch_errors_total": float64(st.FetchErrors),
			"leased_total": float64(st.Leased), "served_total": float64(st.Served), "stalls_total": float64(st.Stalls),
			"rate": st.Rate, "range_size": float64(st.Size),
		}
	}, "fetches_total", "fetch_errors_total", "leased_total", "served_total", "stalls_total")
	o.AddStats("urlshortener_clicks_batch", "events.BatchPublisher of click events", func() map[string]float64 {
		st := s.batch.Stats()
		return map[string]float64{
			"queued": float64(st.Queued), "sending": float64(st.Sending),
			"published_total": float64(st.Published), "failed_total": float64(st.Failed), "dropped_total": float64(st.Dropped),
		}
	}, "published_total", "failed_total", "dropped_total")
	if s.sub != nil {
		o.AddStats("urlshortener_clicks_consumer", "events.Subscriber of click events", func() map[string]float64 {
			st := s.sub.Stats()
			return map[string]float64{
				"fetched_total": float64(st.Fetched), "handled_total": float64(st.Handled),
				"failures_total": float64(st.Failures), "committed_total": float64(st.Committed),
				"commit_errors_total": float64(st.CommitErrors),
			}
		}, "fetched_total", "handled_total", "failures_total", "committed_total", "commit_errors_total")
	}
	if s.cache != nil {
		o.AddStats("urlshortener_cache", "cache.Cache in front of the link store", func() map[string]float64 {
			st := s.cache.Stats()
			return map[string]float64{
				"hits_total": float64(st.Hits), "negative_hits_total": float64(st.NegativeHits),
				"misses_total": float64(st.Misses), "loads_total": float64(st.Loads),
				"coalesced_total": float64(st.Coalesced), "load_errors_total": float64(st.LoadErrors),
				"store_errors_total": float64(st.StoreErrors),
			}
		}, "hits_total", "negative_hits_total", "misses_total", "loads_total", "coalesced_total",
			"load_errors_total", "store_errors_total")
	}
	o.AddCheck("leaser", func(context.Context) error {
		if s.leaser.Stats().Exhausted {
			return tokenrange.ErrExhausted
		}
		return nil
	})
}
