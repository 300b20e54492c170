package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Document is one searchable entity, as the source of truth holds it: a
// hotel, a product, a tweet, a video. The index keeps a copy; documents
// handed out by the index must not be modified.
type Document struct {
	// ID identifies the entity. It must not be empty.
	ID string `json:"id"`
	// Version orders the states of one entity: the index ignores any
	// change whose version is not greater than the one it holds (deleted
	// entities included), so redelivered and reordered events do no harm.
	// It must be positive; a row version column or an updated-at counter
	// in the database is the usual source.
	Version uint64 `json:"version"`
	// Fields are the searchable texts by field name ("name", "city",
	// "description"). Their weights come from Options.FieldWeights.
	Fields map[string]string `json:"fields,omitempty"`
	// Tags are exact-match attributes for filters, such as city or
	// category; a field may have several values.
	Tags map[string][]string `json:"tags,omitempty"`
	// Numbers are numeric attributes for range filters: price, stars,
	// dates as Unix seconds.
	Numbers map[string]float64 `json:"numbers,omitempty"`
	// Popularity ranks otherwise equal hits: higher first.
	Popularity float64 `json:"popularity,omitempty"`
}

// Op is the kind of a [ChangeEvent].
type Op uint8

// The operations of a change event. Created and updated both store the
// event's document as the entity's state; deleted removes it.
const (
	OpCreated Op = iota + 1
	OpUpdated
	OpDeleted
)

// String returns "created", "updated" or "deleted", or "Op(n)" for an
// unknown value.
func (o Op) String() string {
	switch o {
	case OpCreated:
		return "created"
	case OpUpdated:
		return "updated"
	case OpDeleted:
		return "deleted"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ChangeEvent is a change of one entity in the source of truth, as a
// change-data-capture stream or an outbox delivers it.
type ChangeEvent struct {
	Op Op `json:"op"`
	// Doc is the entity's new state. For OpDeleted only Doc.ID and
	// Doc.Version are read.
	Doc Document `json:"doc"`
}

// Source is the source of truth for a full rebuild, usually the database
// the change events come from. Implementations: [github.com/sysblocks/sysblocks/search/sqlsource].
type Source interface {
	// Scan calls fn with every live entity, each with its current version,
	// and stops at the first error fn returns.
	Scan(ctx context.Context, fn func(Document) error) error
}

// QueryCache keeps encoded search results for a short time, so that a hot
// query is answered without touching the index. Its method set is the one
// of the cache block's Store ([github.com/sysblocks/sysblocks/cache]), so
// cache/memstore and cache/redisstore can be passed as they are.
// Implementations must be safe for concurrent use.
type QueryCache interface {
	Get(ctx context.Context, key string) (val []byte, found bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

// TypoIndex selects how words within the typo budget are found.
type TypoIndex uint8

const (
	// SymmetricDelete precomputes, for every term, the strings made by
	// deleting up to the largest typo budget of runes from its first
	// Options.DeletePrefix runes (SymSpell). A query word generates its own
	// deletes and meets its candidates in a hash table. Fastest lookups;
	// costs memory (see Stats).
	SymmetricDelete TypoIndex = iota
	// SortedWalk walks the sorted term dictionary as a trie, running the
	// edit-distance table as a Levenshtein automaton and skipping subtrees
	// that can no longer match. No extra memory; slower lookups. Prefix
	// search always uses this walk.
	SortedWalk
)

// Rule is one criterion of the ranking.
type Rule uint8

// Ranking rules. Hits are sorted by the rules of Options.Ranking in order;
// ties left after all of them go to the likelier misspelling (the typo
// model: see the package documentation), then to the shorter document,
// then to the smaller ID.
const (
	// ByWords puts hits matching more query words first (it matters when
	// Query.MinWords lets some words go unmatched).
	ByWords Rule = iota + 1
	// ByTypos puts hits with fewer typos (summed over matched words) first.
	ByTypos
	// ByProximity puts hits whose matched words stand closer together, in
	// query order, first.
	ByProximity
	// ByField puts hits matched in heavier fields (Options.FieldWeights)
	// first and, at equal weight, shorter documents, which the matched
	// words cover more of.
	ByField
	// ByPopularity puts more popular documents first.
	ByPopularity
)

// Options configure an [Index]. The zero value of every field selects the
// documented default; a nil *Options selects all defaults.
type Options struct {
	// FieldWeights weighs the fields for ByField ("name": 3, "city": 2).
	// A field without an entry weighs 1.
	FieldWeights map[string]int
	// TypoLengths[i] is the least length in runes of a query word that
	// may have i+1 typos. Nil means {3, 6}: no typo under 3 runes, one for
	// 3 to 5, two from 6. A non-nil empty slice turns typo tolerance off.
	// It must be increasing, with at most 3 entries.
	TypoLengths []int
	// FirstTypoCost is what a typo on the first rune costs against the
	// budget and in ranking (people rarely mistype the first letter).
	// Zero means 2; 1 makes it an ordinary typo.
	FirstTypoCost int
	// TypoIndex picks the lookup structure for whole words. The zero value
	// is SymmetricDelete.
	TypoIndex TypoIndex
	// DeletePrefix is how many leading runes of a term the delete variants
	// are made from (longer terms are verified in full afterwards). Zero
	// means 7. Larger values cost memory and save verification work.
	DeletePrefix int
	// MaxExpansions caps how many dictionary terms one query word expands
	// to (its typo variants or, for a prefix, its completions), keeping the
	// cheapest and then the most frequent. Zero means 64.
	MaxExpansions int
	// StrictTypos turns off the widened second look. By default, when a
	// query finds fewer hits within the typo budget than its page needs
	// (Offset+Limit), it is run again with every whole word allowed one
	// typo more than its budget, up to the largest budget of TypoLengths
	// and below the word's length, and with a first-rune typo costing like
	// any other ("ahve" finds "have", "neconstitutional" finds
	// "unconstitutional"). The hits only the second look finds rank after
	// all the others, and Total counts them. The last word of a prefix
	// query is never widened.
	StrictTypos bool
	// MaxLimit caps Query.Limit. Zero means 1000.
	MaxLimit int
	// Ranking orders the rules. Nil means ByWords, ByTypos, ByProximity,
	// ByField, ByPopularity.
	Ranking []Rule
	// Cache, when set, keeps results of queries without a Filter.Match
	// function for CacheTTL. Errors of the cache are counted in Stats and
	// otherwise ignored: the index answers.
	Cache QueryCache
	// CacheTTL is how long a cached result is served. Zero means 10s.
	CacheTTL time.Duration
	// CachePrefix starts every cache key, so that several indexes can share
	// a cache. Empty means "search:".
	CachePrefix string
}

const (
	maxQueryWords  = 16
	maxFieldTokens = math.MaxUint16
	maxFields      = math.MaxUint16
)

type config struct {
	weights       map[string]int
	typoLengths   []int
	firstTypoCost int
	typoIndex     TypoIndex
	deletePrefix  int
	maxExpansions int
	strictTypos   bool
	maxLimit      int
	ranking       []Rule
	cache         QueryCache
	cacheTTL      time.Duration
	cachePrefix   string
}

func (o *Options) resolve() (config, error) {
	if o == nil {
		o = &Options{}
	}
	c := config{
		weights: o.FieldWeights, typoLengths: o.TypoLengths, firstTypoCost: o.FirstTypoCost,
		typoIndex: o.TypoIndex, deletePrefix: o.DeletePrefix, maxExpansions: o.MaxExpansions,
		strictTypos: o.StrictTypos, maxLimit: o.MaxLimit, ranking: o.Ranking, cache: o.Cache, cacheTTL: o.CacheTTL,
		cachePrefix: o.CachePrefix,
	}
	if c.typoLengths == nil {
		c.typoLengths = []int{3, 6}
	}
	if len(c.typoLengths) > 3 {
		return c, fmt.Errorf("%w: TypoLengths has %d entries, at most 3", ErrInvalidOptions, len(c.typoLengths))
	}
	for i, n := range c.typoLengths {
		if n < 1 || (i > 0 && n <= c.typoLengths[i-1]) {
			return c, fmt.Errorf("%w: TypoLengths %v must be positive and increasing", ErrInvalidOptions, c.typoLengths)
		}
	}
	if c.firstTypoCost == 0 {
		c.firstTypoCost = 2
	}
	if c.deletePrefix == 0 {
		c.deletePrefix = 7
	}
	if c.maxExpansions == 0 {
		c.maxExpansions = 64
	}
	if c.maxLimit == 0 {
		c.maxLimit = 1000
	}
	if c.ranking == nil {
		c.ranking = []Rule{ByWords, ByTypos, ByProximity, ByField, ByPopularity}
	}
	if c.cacheTTL == 0 {
		c.cacheTTL = 10 * time.Second
	}
	if c.cachePrefix == "" {
		c.cachePrefix = "search:"
	}
	switch {
	case c.firstTypoCost < 1 || c.firstTypoCost > 3:
		return c, fmt.Errorf("%w: FirstTypoCost %d not in [1, 3]", ErrInvalidOptions, c.firstTypoCost)
	case c.typoIndex > SortedWalk:
		return c, fmt.Errorf("%w: unknown TypoIndex %d", ErrInvalidOptions, c.typoIndex)
	case c.deletePrefix < 1 || c.deletePrefix > 32:
		return c, fmt.Errorf("%w: DeletePrefix %d not in [1, 32]", ErrInvalidOptions, c.deletePrefix)
	case c.maxExpansions < 1:
		return c, fmt.Errorf("%w: MaxExpansions %d", ErrInvalidOptions, c.maxExpansions)
	case c.maxLimit < 1:
		return c, fmt.Errorf("%w: MaxLimit %d", ErrInvalidOptions, c.maxLimit)
	case c.cacheTTL < 0:
		return c, fmt.Errorf("%w: CacheTTL %v", ErrInvalidOptions, c.cacheTTL)
	}
	for _, r := range c.ranking {
		if r < ByWords || r > ByPopularity {
			return c, fmt.Errorf("%w: unknown ranking rule %d", ErrInvalidOptions, r)
		}
	}
	return c, nil
}

// budget returns how many typos a query word of n runes may have.
func (c *config) budget(n int) int {
	b := 0
	for _, l := range c.typoLengths {
		if n >= l {
			b++
		}
	}
	return b
}

// wideBudget returns how many typos a query word of n runes may have when
// the budget is widened: one more, up to the largest budget and fewer
// than n (a one-rune word, such as an ideograph, is never widened).
func (c *config) wideBudget(n int) int {
	k := c.budget(n)
	if c.strictTypos {
		return k
	}
	return max(k, min(k+1, len(c.typoLengths), n-1))
}

// canWiden reports whether widening the budget can find more terms for
// any whole word of words.
func (c *config) canWiden(words [][]rune, prefix bool) bool {
	if c.strictTypos {
		return false
	}
	for i, w := range words {
		if prefix && i == len(words)-1 {
			continue
		}
		if k := c.budget(len(w)); c.wideBudget(len(w)) > k || (k > 0 && c.firstTypoCost > 1) {
			return true
		}
	}
	return false
}

// Index is an in-memory full-text index with typo tolerance, kept in step
// with a source of truth by change events ([Index.Apply]) and rebuilt from
// it on demand ([Index.Rebuild]). It is safe for concurrent use: searches
// run in parallel with each other; changes take a short exclusive lock.
type Index struct {
	cfg config

	mu      sync.RWMutex
	st      *state
	rebuild *[]ChangeEvent // events applied while a rebuild runs
	scratch sync.Pool      // *scratch

	applied, stale                     atomic.Uint64
	cacheHits, cacheMisses, cacheFails atomic.Uint64
}

// New returns an empty index. It starts no goroutine.
func New(opts *Options) (*Index, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &Index{cfg: cfg, st: newState(&cfg)}, nil
}

// docEntry is a live document and where its postings point.
type docEntry struct {
	doc       Document
	slot      uint32
	tokens    int        // words over all fields
	fieldLens []fieldLen // words per field, for fields of at most 8 words
}

type fieldLen struct{ field, n uint16 }

// state is everything a rebuild replaces at once.
type state struct {
	cfg          *config
	docs         map[string]*docEntry
	tombstones   map[string]uint64 // deleted IDs and the version of the delete
	slots        []*docEntry       // slot -> live document, nil when dead
	deadSlots    int
	fieldIDs     map[string]uint16
	fieldNames   []string
	fieldWeights []int // by field id, from Options.FieldWeights
	dict         *dict
	marks        map[string]int64
}

func newState(cfg *config) *state {
	return &state{
		cfg:        cfg,
		docs:       make(map[string]*docEntry),
		tombstones: make(map[string]uint64),
		fieldIDs:   make(map[string]uint16),
		dict:       newDict(cfg.typoIndex == SymmetricDelete, cfg.deletePrefix, len(cfg.typoLengths)),
		marks:      make(map[string]int64),
	}
}

func validDoc(d *Document) error {
	if d.ID == "" {
		return fmt.Errorf("%w: empty ID", ErrInvalidDocument)
	}
	if d.Version == 0 {
		return fmt.Errorf("%w: %q has version 0", ErrInvalidDocument, d.ID)
	}
	return nil
}

func validEvent(ev *ChangeEvent) error {
	if ev.Op < OpCreated || ev.Op > OpDeleted {
		return fmt.Errorf("%w: unknown operation %d", ErrInvalidDocument, ev.Op)
	}
	return validDoc(&ev.Doc)
}

// version returns the version the state holds for id, live or deleted.
func (s *state) version(id string) uint64 {
	if e, ok := s.docs[id]; ok {
		return e.doc.Version
	}
	return s.tombstones[id]
}

// apply applies ev if it is newer than what s holds, and reports whether it
// did.
func (s *state) apply(ev *ChangeEvent) bool {
	id := ev.Doc.ID
	if ev.Doc.Version <= s.version(id) {
		return false
	}
	s.remove(id)
	if ev.Op == OpDeleted {
		s.tombstones[id] = ev.Doc.Version
		return true
	}
	delete(s.tombstones, id)
	s.insert(cloneDoc(ev.Doc))
	return true
}

// insert indexes d, which must not be present.
func (s *state) insert(d Document) {
	e := &docEntry{doc: d, slot: uint32(len(s.slots))}
	s.slots = append(s.slots, e)
	s.docs[d.ID] = e
	for _, name := range sortedKeys(d.Fields) {
		f, ok := s.fieldIDs[name]
		if !ok {
			if len(s.fieldNames) >= maxFields {
				continue
			}
			f = uint16(len(s.fieldNames))
			s.fieldIDs[name] = f
			s.fieldNames = append(s.fieldNames, name)
			w, ok := s.cfg.weights[name]
			if !ok {
				w = 1
			}
			s.fieldWeights = append(s.fieldWeights, w)
		}
		n := 0
		tokenize(d.Fields[name], maxFieldTokens, func(w []rune, pos int) {
			id := s.dict.intern(w)
			s.dict.add(id, posting{slot: e.slot, field: f, pos: uint16(pos)})
			n++
		})
		e.tokens += n
		if n > 0 && n <= 8 {
			e.fieldLens = append(e.fieldLens, fieldLen{field: f, n: uint16(n)})
		}
	}
}

// remove drops the document id, if live, leaving its postings to be
// compacted away.
func (s *state) remove(id string) {
	e, ok := s.docs[id]
	if !ok {
		return
	}
	delete(s.docs, id)
	s.slots[e.slot] = nil
	s.deadSlots++
	counts := make(map[uint32]int)
	for name, text := range e.doc.Fields {
		if _, ok := s.fieldIDs[name]; !ok {
			continue // never indexed: the field table was full
		}
		tokenize(text, maxFieldTokens, func(w []rune, _ int) {
			counts[s.dict.ids[string(w)]]++
		})
	}
	alive := func(slot uint32) bool { return s.slots[slot] != nil }
	for id, n := range counts {
		s.dict.kill(id, n, alive)
	}
	if s.deadSlots > 4096 && s.deadSlots > len(s.docs) {
		s.compactSlots()
	}
	if s.dict.dead > 4096 && s.dict.dead > len(s.dict.terms)/2 {
		s.compactTerms()
	}
}

// compactSlots renumbers the live documents densely and rewrites every
// posting list, dropping the dead ones.
func (s *state) compactSlots() {
	renum := make([]uint32, len(s.slots))
	var slots []*docEntry
	for i, e := range s.slots {
		if e != nil {
			renum[i] = uint32(len(slots))
			e.slot = uint32(len(slots))
			slots = append(slots, e)
		}
	}
	for i := range s.dict.terms {
		t := &s.dict.terms[i]
		out := t.postings[:0]
		for _, p := range t.postings {
			if s.slots[p.slot] != nil {
				p.slot = renum[p.slot]
				out = append(out, p)
			}
		}
		clear(t.postings[len(out):])
		t.postings, t.dead = out, 0
	}
	s.slots, s.deadSlots = slots, 0
}

// compactTerms rebuilds the dictionary from the live documents, dropping
// terms no document uses any more.
func (s *state) compactTerms() {
	fresh := newState(s.cfg)
	fresh.tombstones, fresh.marks = s.tombstones, s.marks
	fresh.dict.bulk = true
	for _, e := range s.docs {
		fresh.insert(e.doc)
	}
	fresh.dict.bulk = false
	fresh.dict.merge()
	*s = *fresh
}

func cloneDoc(d Document) Document {
	out := Document{ID: d.ID, Version: d.Version, Popularity: d.Popularity}
	if d.Fields != nil {
		out.Fields = make(map[string]string, len(d.Fields))
		for k, v := range d.Fields {
			out.Fields[k] = v
		}
	}
	if d.Tags != nil {
		out.Tags = make(map[string][]string, len(d.Tags))
		for k, v := range d.Tags {
			out.Tags[k] = slices.Clone(v)
		}
	}
	if d.Numbers != nil {
		out.Numbers = make(map[string]float64, len(d.Numbers))
		for k, v := range d.Numbers {
			out.Numbers[k] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Apply applies one change event and reports whether it changed the index:
// an event whose version is not greater than the version the index holds
// for the entity (live or deleted) is ignored, so redelivered, duplicated
// and out-of-order events leave the index as the newest state dictates.
// An invalid event returns an error wrapping [ErrInvalidDocument] and
// changes nothing.
func (ix *Index) Apply(ctx context.Context, ev ChangeEvent) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := validEvent(&ev); err != nil {
		return false, err
	}
	ev.Doc = cloneDoc(ev.Doc)
	ix.mu.Lock()
	ok := ix.st.apply(&ev)
	if ix.rebuild != nil {
		*ix.rebuild = append(*ix.rebuild, ev)
	}
	ix.mu.Unlock()
	if ok {
		ix.applied.Add(1)
	} else {
		ix.stale.Add(1)
	}
	return ok, nil
}

// Rebuild replaces the index with the documents of src, the source of
// truth. Searches and Apply keep working on the old index meanwhile;
// events applied during the scan are replayed onto the new index before it
// takes over (versions decide), and deletes the old index remembers are
// kept, so a redelivered event cannot bring back a deleted entity. Marks
// are kept. On error the old index stays.
func (ix *Index) Rebuild(ctx context.Context, src Source) error {
	ix.mu.Lock()
	if ix.rebuild != nil {
		ix.mu.Unlock()
		return ErrRebuildInProgress
	}
	log := make([]ChangeEvent, 0)
	ix.rebuild = &log
	ix.mu.Unlock()

	st := newState(&ix.cfg)
	st.dict.bulk = true
	err := src.Scan(ctx, func(d Document) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := validDoc(&d); err != nil {
			return err
		}
		if d.Version > st.version(d.ID) {
			st.remove(d.ID)
			st.insert(cloneDoc(d))
		}
		return nil
	})
	st.dict.bulk = false
	st.dict.merge()

	ix.mu.Lock()
	defer ix.mu.Unlock()
	log, ix.rebuild = *ix.rebuild, nil
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	for id, v := range ix.st.tombstones {
		if v > st.version(id) {
			st.remove(id)
			st.tombstones[id] = v
		}
	}
	for i := range log {
		st.apply(&log[i])
	}
	for k, v := range ix.st.marks {
		st.marks[k] = v
	}
	ix.st = st
	return nil
}

// Get returns the indexed state of the entity id and whether it is live.
func (ix *Index) Get(id string) (Document, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e, ok := ix.st.docs[id]
	if !ok {
		return Document{}, false
	}
	return e.doc, true
}

// Version returns the version the index holds for id, live or deleted, and
// 0 when it has never seen id.
func (ix *Index) Version(id string) uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.st.version(id)
}

// Len returns the number of live documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.st.docs)
}

// Each calls fn with every live document in unspecified order until fn
// returns false. fn must not call methods of the index that change it.
func (ix *Index) Each(fn func(Document) bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, e := range ix.st.docs {
		if !fn(e.doc) {
			return
		}
	}
}

// SetMark records a named position in the stream that feeds the index,
// such as the next Kafka offset of a partition. Marks are saved with
// [Index.Snapshot] in the same consistent cut as the documents, so a
// restarted consumer knows where the restored index stands.
func (ix *Index) SetMark(name string, value int64) {
	ix.mu.Lock()
	ix.st.marks[name] = value
	ix.mu.Unlock()
}

// Marks returns a copy of the marks.
func (ix *Index) Marks() map[string]int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[string]int64, len(ix.st.marks))
	for k, v := range ix.st.marks {
		out[k] = v
	}
	return out
}
