package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/simple"

	"github.com/sysblocks/sysblocks/search"
)

// engine is one fuzzy word lookup under test.
type engine interface {
	build(words []string) error
	// query returns the IDs (indexes into words) of the top k hits.
	query(typo string, k int) ([]int, error)
	// bytes returns extra storage outside the Go heap (files on disk).
	diskBytes() int64
	close()
}

// sysEngine is search.Index with one document per word.
type sysEngine struct {
	opts *search.Options
	ix   *search.Index
}

type wordSource []string

func (s wordSource) Scan(ctx context.Context, fn func(search.Document) error) error {
	for i, w := range s {
		if err := fn(search.Document{ID: strconv.Itoa(i), Version: 1, Fields: map[string]string{"w": w}}); err != nil {
			return err
		}
	}
	return nil
}

func (e *sysEngine) build(words []string) error {
	ix, err := search.New(e.opts)
	if err != nil {
		return err
	}
	e.ix = ix
	return ix.Rebuild(context.Background(), wordSource(words))
}

func (e *sysEngine) query(typo string, k int) ([]int, error) {
	r, err := e.ix.Search(context.Background(), search.Query{Text: typo, Limit: k})
	if err != nil {
		return nil, err
	}
	out := make([]int, len(r.Hits))
	for i, h := range r.Hits {
		out[i], _ = strconv.Atoi(h.Doc.ID)
	}
	return out, nil
}

func (e *sysEngine) diskBytes() int64 { return 0 }
func (e *sysEngine) close()           { e.ix = nil }

// bleveEngine is a bleve index (scorch, on disk in a temporary directory)
// with one document per word, analysed by the simple analyzer (letters,
// lower-cased), queried with a FuzzyQuery.
type bleveEngine struct {
	fuzziness int
	dir       string
	idx       bleve.Index
}

func (e *bleveEngine) build(words []string) error {
	dir, err := os.MkdirTemp("", "bleve-bench-")
	if err != nil {
		return err
	}
	e.dir = dir
	m := bleve.NewIndexMapping()
	m.DefaultAnalyzer = simple.Name
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	idx, err := bleve.New(filepath.Join(dir, "words.bleve"), m)
	if err != nil {
		return err
	}
	e.idx = idx
	b := idx.NewBatch()
	for i, w := range words {
		if err := b.Index(strconv.Itoa(i), map[string]any{"w": w}); err != nil {
			return err
		}
		if b.Size() >= 5000 {
			if err := idx.Batch(b); err != nil {
				return err
			}
			b = idx.NewBatch()
		}
	}
	return idx.Batch(b)
}

func (e *bleveEngine) query(typo string, k int) ([]int, error) {
	q := bleve.NewFuzzyQuery(strings.ToLower(typo))
	q.SetField("w")
	q.SetFuzziness(e.fuzziness)
	res, err := e.idx.Search(bleve.NewSearchRequestOptions(q, k, 0, false))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(res.Hits))
	for i, h := range res.Hits {
		out[i], _ = strconv.Atoi(h.ID)
	}
	return out, nil
}

func (e *bleveEngine) diskBytes() int64 {
	var n int64
	filepath.WalkDir(e.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func (e *bleveEngine) close() {
	if e.idx != nil {
		e.idx.Close()
	}
	os.RemoveAll(e.dir)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// fuzzyResult is one engine's figures on one query set.
type fuzzyResult struct {
	name              string
	queries           int
	recall1, recall10 float64
	qps               float64
	heapBytes, disk   int64
	build             time.Duration
	extra             string
	// rank[i] is the 0-based position of pair i's word among the first
	// 10 hits, -1 when absent; top[i] holds those hits.
	rank []int
	top  [][]int
}

// job is one engine's run over its query set.
type job struct {
	e     engine
	pairs []pair
	res   fuzzyResult
	hits1 int
	hit10 int
	spent time.Duration
}

func newJob(name string, e engine, pairs []pair) *job {
	return &job{e: e, pairs: pairs, res: fuzzyResult{name: name, queries: len(pairs),
		rank: make([]int, len(pairs)), top: make([][]int, len(pairs))}}
}

// build builds the engine's index; its heap is what the build added.
func (j *job) build(words []string) error {
	before := heapInUse()
	start := time.Now()
	if err := j.e.build(words); err != nil {
		return fmt.Errorf("%s: build: %w", j.res.name, err)
	}
	j.res.build = time.Since(start)
	j.res.heapBytes = int64(heapInUse()) - int64(before)
	j.res.disk = j.e.diskBytes()
	return nil
}

// timeQueries runs the job's queries and records its figures.
func timeQueries(words []string, j *job) error {
	r := &j.res
	start := time.Now()
	for pi, p := range j.pairs {
		got, err := j.e.query(p.typo, 10)
		if err != nil {
			return fmt.Errorf("%s: query %q: %w", r.name, p.typo, err)
		}
		r.rank[pi], r.top[pi] = -1, got
		for k, id := range got {
			if strings.EqualFold(words[id], p.word) {
				if k == 0 {
					j.hits1++
				}
				j.hit10++
				r.rank[pi] = k
				break
			}
		}
	}
	j.spent = time.Since(start)
	r.qps = float64(r.queries) / j.spent.Seconds()
	r.recall1 = float64(j.hits1) / float64(r.queries)
	r.recall10 = float64(j.hit10) / float64(r.queries)
	if se, ok := j.e.(*sysEngine); ok {
		st := se.ix.Stats()
		r.extra = fmt.Sprintf("terms %d, delete keys %d, links %d; estimated bytes: terms %s, postings %s, deletes %s, docs %s",
			st.Terms, st.DeleteKeys, st.DeleteLinks, mib(st.TermBytes), mib(st.PostingBytes), mib(st.DeleteBytes), mib(st.DocBytes))
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// typeAhead measures search as you type: each misspelling cut to its first
// two thirds (at least 3 runes) is a prefix query; a hit is the correct
// word among the first 10.
func typeAhead(words []string, pairs []pair) (recall10, qps float64, err error) {
	e := &sysEngine{}
	if err := e.build(words); err != nil {
		return 0, 0, err
	}
	hits := 0
	start := time.Now()
	for _, p := range pairs {
		rs := []rune(p.typo)
		cut := string(rs[:min(len(rs), max(3, len(rs)*2/3))])
		r, err := e.ix.Search(context.Background(), search.Query{Text: cut, Prefix: true, Limit: 10})
		if err != nil {
			return 0, 0, err
		}
		for _, h := range r.Hits {
			id, _ := strconv.Atoi(h.Doc.ID)
			if strings.EqualFold(words[id], p.word) {
				hits++
				break
			}
		}
	}
	elapsed := time.Since(start)
	return float64(hits) / float64(len(pairs)), float64(len(pairs)) / elapsed.Seconds(), nil
}
