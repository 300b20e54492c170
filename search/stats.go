package search

import "unsafe"

// Stats is a snapshot of an index's size and counters.
type Stats struct {
	Docs       int // live documents
	Tombstones int // deleted IDs remembered with their version
	Terms      int // dictionary terms with at least one live posting
	DeadTerms  int // terms waiting for compaction
	Postings   int // stored postings, dead ones included
	// DeleteKeys and DeleteLinks size the symmetric-delete index: distinct
	// variant hashes and (variant, term) pairs.
	DeleteKeys, DeleteLinks int

	// Estimated bytes held by each structure (slice capacities, string
	// bytes, map entries at Go's usual load); the heap may hold more.
	TermBytes, PostingBytes, DeleteBytes, DocBytes int64

	Applied, Stale uint64 // change events applied, and ignored as not newer
	// CacheHits, CacheMisses and CacheErrors count query cache lookups.
	CacheHits, CacheMisses, CacheErrors uint64
}

// mapEntry is the estimated cost of one map entry beyond its key and value.
const mapEntry = 16

// Stats returns the current figures.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.st
	st := Stats{
		Docs: len(s.docs), Tombstones: len(s.tombstones),
		Terms: len(s.dict.terms) - s.dict.dead, DeadTerms: s.dict.dead,
		Applied: ix.applied.Load(), Stale: ix.stale.Load(),
		CacheHits: ix.cacheHits.Load(), CacheMisses: ix.cacheMisses.Load(), CacheErrors: ix.cacheFails.Load(),
	}
	d := s.dict
	st.TermBytes = int64(cap(d.terms))*int64(unsafe.Sizeof(term{})) + int64(cap(d.sorted)+cap(d.fresh))*4 +
		int64(cap(d.sortedText))*16
	for i := range d.terms {
		t := &d.terms[i]
		st.TermBytes += int64(len(t.text)) + int64(cap(t.runes))*4 + (16 + 4 + mapEntry)
		st.Postings += len(t.postings)
		st.PostingBytes += int64(cap(t.postings)) * int64(unsafe.Sizeof(posting{}))
	}
	if d.deletes != nil {
		st.DeleteKeys, st.DeleteLinks = len(d.deletes), len(d.links)
		st.DeleteBytes = int64(len(d.deletes))*(4+4+mapEntry) + int64(cap(d.links))*int64(unsafe.Sizeof(link{}))
	}
	st.DocBytes = int64(cap(s.slots)) * 8
	for id, e := range s.docs {
		st.DocBytes += int64(len(id)) + 16 + 8 + mapEntry + int64(unsafe.Sizeof(*e))
		for k, v := range e.doc.Fields {
			st.DocBytes += int64(len(k)+len(v)) + 32 + mapEntry
		}
		for k, vs := range e.doc.Tags {
			st.DocBytes += int64(len(k)) + 40 + mapEntry
			for _, v := range vs {
				st.DocBytes += int64(len(v)) + 16
			}
		}
		st.DocBytes += int64(len(e.doc.Numbers)) * (16 + 8 + mapEntry)
	}
	return st
}
