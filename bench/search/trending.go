package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"github.com/sysblocks/sysblocks/trending"
)

// trendingBench streams Zipf-distributed words into trending.Tracker over
// a ten-minute window of one-minute buckets, with sketches of several
// sizes and in exact mode (the baseline: a map per bucket), and reports
// ingest rate, memory and top-k recall against the exact counts.
func trendingBench(seed uint64) error {
	const (
		n     = 4_000_000
		vocab = 500_000
	)
	words, err := loadWords("/usr/share/dict/american-english")
	if err != nil || len(words) < 1000 {
		words = nil // fall back to synthetic terms
	}
	r := rand.New(rand.NewPCG(seed, 11))
	z := rand.NewZipf(r, 1.1, 1, vocab-1)
	name := func(i uint64) string {
		if words != nil && i < uint64(len(words)) {
			return words[i]
		}
		return fmt.Sprintf("term%d", i)
	}
	stream := make([]string, n)
	exact := map[string]uint64{}
	for i := range stream {
		stream[i] = name(z.Uint64())
		exact[stream[i]]++
	}
	fmt.Printf("\ntrending: %d terms, Zipf s=1.1 over %d distinct (%d seen), window 10 min of 1-min buckets, all in the window\n",
		n, vocab, len(exact))
	type cfg struct {
		label        string
		width, cands int
		exact        bool
	}
	cfgs := []cfg{
		{"exact (map per bucket, baseline)", 0, 0, true},
		{"sketch 1024x4, 128 candidates", 1024, 128, false},
		{"sketch 4096x4, 256 candidates (default)", 4096, 256, false},
		{"sketch 16384x4, 1024 candidates", 16384, 1024, false},
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "counter\tterms/s\tmemory\trecall@10\trecall@100")
	var baseRate float64
	var baseBytes int
	type row struct {
		label     string
		rate      float64
		bytes     int
		r10, r100 float64
	}
	var rows []row
	for _, c := range cfgs {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		at := start
		tr, err := trending.New(&trending.Options{Window: 10 * time.Minute, Bucket: time.Minute, Exact: c.exact,
			Width: c.width, Candidates: c.cands, Now: func() time.Time { return at }})
		if err != nil {
			return err
		}
		t0 := time.Now()
		for i, term := range stream {
			if i%(n/10) == 0 && i > 0 {
				at = at.Add(time.Minute)
			}
			tr.AddTerm("", term, 1, at)
		}
		rate := float64(n) / time.Since(t0).Seconds()
		st := tr.Stats()
		rw := row{label: c.label, rate: rate, bytes: st.Bytes,
			r10: recallAt(tr.Top("", 10), exact, 10), r100: recallAt(tr.Top("", 100), exact, 100)}
		if c.exact {
			baseRate, baseBytes = rate, st.Bytes
		}
		rows = append(rows, rw)
		fmt.Fprintf(tw, "%s\t%.2fM\t%s\t%.3f\t%.3f\n", rw.label, rw.rate/1e6, mib(int64(rw.bytes)), rw.r10, rw.r100)
	}
	tw.Flush()
	for _, rw := range rows[1:] {
		fmt.Printf("ratio %s / exact: ingest %.2fx, memory %.3fx, recall@10 %.3f, recall@100 %.3f\n",
			rw.label, rw.rate/baseRate, float64(rw.bytes)/float64(baseBytes), rw.r10, rw.r100)
	}
	return nil
}

// recallAt is the share of the k most frequent terms (exact counts) that
// got contains; a term tied with the k-th count counts as one of them.
func recallAt(got []trending.Count, exact map[string]uint64, k int) float64 {
	counts := make([]uint64, 0, len(exact))
	for _, c := range exact {
		counts = append(counts, c)
	}
	// k-th largest count
	for i := 0; i < k && i < len(counts); i++ {
		m := i
		for j := i + 1; j < len(counts); j++ {
			if counts[j] > counts[m] {
				m = j
			}
		}
		counts[i], counts[m] = counts[m], counts[i]
	}
	kth := counts[min(k, len(counts))-1]
	hit := 0
	for _, c := range got {
		if exact[c.Term] >= kth {
			hit++
		}
	}
	return float64(min(hit, k)) / float64(k)
}
