// Package memindex is the in-memory adapter of geogrid: an adaptive S2 cell
// quadtree per root cell, sharded by cell for queries and by id for
// updates, plus an in-memory [geogrid.Claims]. It imports only the standard
// library and S2, and is safe for concurrent use.
//
// Roots: a cell of Segmentation.MinLevel is a root of the grid. A root
// exists only while it holds entries: it is created by the first entry
// that lands in it and freed when its last entry leaves, so memory is
// proportional to what is stored, whatever MinLevel is (there are 6*4^10,
// about 6 million, cells of level 10; an index uses a few hundred bytes for
// each of them that holds a driver, and nothing for the rest). Live roots
// are found through a map split into 64 shards.
//
// Locking: each root has a sync.RWMutex guarding its tree; queries take
// read locks on the roots the search circle touches, updates take a write
// lock on one root (two, in cell order, when an object crosses roots). The
// id table, split into 64 shards each with its own mutex, is locked before
// any root; the root map's shard locks are taken last, never while waiting
// for a root.
//
// Updates: an object's slot is both its entry in the id table and its
// entry in the tree: it holds the position and time, and a leaf lists
// pointers to the slots of its objects. An Update of an object that stays
// in its leaf (most GPS fixes move a few metres) reads a bucket of the id
// table and the object's slot, which carries a copy of its leaf's bounds,
// and rewrites the position in that slot. It computes no cell id, reads no
// tree node and allocates nothing.
package memindex
