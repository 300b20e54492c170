// Command search measures the search and trending blocks against baselines
// on real data:
//
//   - fuzzy: the misspellings of DictMain in github.com/golangci/misspell
//     (typo -> word pairs, read from the Go module cache) looked up in the
//     words of Debian's wamerican, with search.Index and with bleve's
//     FuzzyQuery on the same machine: recall@1, recall@10, queries per
//     second (one goroutine each) and index memory.
//   - trending: ingest rate and top-k recall of trending.Tracker at fixed
//     memory budgets against exact counts, on a Zipf stream.
//
// Run scripts/data/words.sh first, then
//
//	cd bench && go run ./search -mode all
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/sysblocks/sysblocks/search"
)

func main() {
	mode := flag.String("mode", "all", "fuzzy, trending or all")
	wordsPath := flag.String("words", "/usr/share/dict/american-english", "word list, one word a line")
	sample := flag.Int("bleve-sample", 0, "query bleve with a random sample of this many pairs (0: all)")
	seed := flag.Uint64("seed", 1, "random seed for samples and streams")
	misses := flag.String("misses", "", "write the queries bleve finds in its top 10 and search (defaults) does not to this file, one a line")
	flag.Parse()
	if *mode == "fuzzy" || *mode == "all" {
		if err := fuzzy(*wordsPath, *sample, *seed, *misses); err != nil {
			log.Fatal(err)
		}
	}
	if *mode == "trending" || *mode == "all" {
		if err := trendingBench(*seed); err != nil {
			log.Fatal(err)
		}
	}
}

func fuzzy(wordsPath string, sample int, seed uint64, missesPath string) error {
	words, err := loadWords(wordsPath)
	if err != nil {
		return err
	}
	file, err := misspellFile()
	if err != nil {
		return err
	}
	pairs, err := loadMisspellings(file)
	if err != nil {
		return err
	}
	inDict := map[string]bool{}
	for _, w := range words {
		inDict[strings.ToLower(w)] = true
	}
	reachable := 0
	for _, p := range pairs {
		if inDict[strings.ToLower(p.word)] {
			reachable++
		}
	}
	fmt.Printf("fuzzy: %d words from %s; %d misspelling pairs from %s (%d of the corrections are in the word list)\n",
		len(words), wordsPath, len(pairs), file, reachable)
	blevePairs := pairs
	if sample > 0 && sample < len(pairs) {
		r := rand.New(rand.NewPCG(seed, 7))
		perm := r.Perm(len(pairs))[:sample]
		blevePairs = make([]pair, sample)
		for i, j := range perm {
			blevePairs[i] = pairs[j]
		}
	}
	type run struct {
		name  string
		e     engine
		pairs []pair
	}
	runs := []run{
		{"sysblocks search (defaults: 1 typo from 3 runes, 2 from 6, first-letter typo x2, widened look for short pages)", &sysEngine{}, pairs},
		{"sysblocks search (StrictTypos: no widened look)", &sysEngine{opts: &search.Options{StrictTypos: true}}, pairs},
		{"sysblocks search (first-letter typo x1)", &sysEngine{opts: &search.Options{FirstTypoCost: 1}}, pairs},
		{"sysblocks search (2 typos at any length, first-letter x1, like bleve fuzziness 2)", &sysEngine{opts: &search.Options{TypoLengths: []int{1, 2}, FirstTypoCost: 1}}, pairs},
		{"sysblocks search (sorted walk, no delete index)", &sysEngine{opts: &search.Options{TypoIndex: search.SortedWalk}}, pairs},
	}
	nSys := len(runs)
	runs = append(runs, run{"bleve v2 FuzzyQuery fuzziness 2 (scorch)", &bleveEngine{fuzziness: 2}, blevePairs})
	if len(blevePairs) != len(pairs) {
		runs = append(runs, run{"sysblocks search (defaults) on bleve's sample", &sysEngine{}, blevePairs})
	}
	// One engine at a time, alone in memory: an index alive beside
	// another would charge the other's queries for garbage-collecting it.
	jobs := make([]*job, len(runs))
	for i, r := range runs {
		jobs[i] = newJob(r.name, r.e, r.pairs)
		err := jobs[i].build(words)
		if err == nil {
			err = timeQueries(words, jobs[i])
		}
		r.e.close()
		if err != nil {
			return err
		}
	}
	results := make([]fuzzyResult, len(jobs))
	for i, j := range jobs {
		results[i] = j.res
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "engine\tqueries\trecall@1\trecall@10\tqueries/s\theap\tdisk\tbuild")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%.0f\t%s\t%s\t%v\n", r.name, r.queries, r.recall1, r.recall10, r.qps,
			mib(r.heapBytes), mib(r.disk), r.build.Round(1e6))
	}
	tw.Flush()
	for _, r := range results {
		if r.extra != "" {
			fmt.Printf("  %s: %s\n", r.name, r.extra)
		}
	}
	b := results[nSys]
	same := results[:nSys]
	if len(results) > nSys+1 {
		same = results[nSys+1:] // bleve ran on a sample: compare on the same sample
	}
	for _, r := range same {
		fmt.Printf("ratio %s / bleve: queries/s %.1fx, recall@1 %+.4f, recall@10 %+.4f\n", r.name, r.qps/b.qps, r.recall1-b.recall1, r.recall10-b.recall10)
	}
	if missesPath != "" {
		def := results[0]
		if len(results) > nSys+1 {
			def = results[nSys+1]
		}
		if err := writeMisses(missesPath, words, blevePairs, def, b); err != nil {
			return err
		}
	}
	r10, qps, err := typeAhead(words, pairs)
	if err != nil {
		return err
	}
	fmt.Printf("type-ahead (sysblocks search, Prefix, first 2/3 of each misspelling): recall@10 %.3f, %.0f queries/s\n", r10, qps)
	return nil
}

// writeMisses writes, one a line and tab-separated, the pairs that b finds
// among its first 10 hits and a does not: the misspelling, the word, b's
// rank, then a's and b's hits. The last line counts both directions.
func writeMisses(path string, words []string, pairs []pair, a, b fuzzyResult) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	names := func(ids []int) string {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = words[id]
		}
		return strings.Join(s, ",")
	}
	onlyA, onlyB := 0, 0
	for i, p := range pairs {
		switch {
		case a.rank[i] < 0 && b.rank[i] >= 0:
			onlyB++
			fmt.Fprintf(f, "%s\t%s\t%d\t%s\t%s\n", p.typo, p.word, b.rank[i], names(a.top[i]), names(b.top[i]))
		case a.rank[i] >= 0 && b.rank[i] < 0:
			onlyA++
		}
	}
	fmt.Fprintf(f, "# %s only: %d; %s only: %d\n", b.name, onlyB, a.name, onlyA)
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("misses: %d queries only %s finds in its top 10, %d only %s finds; written to %s\n", onlyB, b.name, onlyA, a.name, path)
	return nil
}
