package geogrid

// IndexStats are the counters an [Index] may keep about its grid, read by
// [Grid.Stats] from an index that implements [StatsIndex]. Counters count
// since the index value was created; for a store shared by several
// processes, what this process's calls did. A counter an index cannot keep
// without I/O stays zero (the adapter's Stats says which).
type IndexStats struct {
	Entries      int    // entries stored now, fresh or stale
	Moves        uint64 // updates that moved an entry to another leaf cell
	Splits       uint64 // leaf cells split into their four children
	Merges       uint64 // subtrees merged back into one leaf
	StaleSkipped uint64 // entries a Search passed over because they were stale
}

// StatsIndex is an optional capability of an [Index]: an index that
// implements it reports its counters through [Grid.Stats]. Stats must be
// safe for concurrent use and must not block on I/O.
type StatsIndex interface {
	Stats() IndexStats
}

// GridStats is a snapshot of a [Grid]'s counters since [New].
type GridStats struct {
	Updates     uint64 // fixes passed to the index by Update (older fixes the index ignored included)
	Removes     uint64 // ids removed by Remove
	Gets        uint64 // Get calls that reached the index
	Queries     uint64 // Nearby calls that reached the index
	Results     uint64 // neighbours returned by Nearby
	Stale       uint64 // stale fixes the grid excluded: Get calls refused as stale, and Nearby candidates the index returned stale
	Pruned      uint64 // stale entries removed by Prune and Run
	PruneErrors uint64 // failed prunes in Run
	// Index holds the index's own counters (moves between cells, splits,
	// merges, stale entries its searches skipped), or zeros when the
	// index does not implement [StatsIndex].
	Index IndexStats
}

// MarketStats is a snapshot of a [Market]'s counters since [NewMarket].
type MarketStats struct {
	Supply  uint64 // Supply observations recorded (valid input, within the ring)
	Counted uint64 // of which counted a driver in a cell and window for the first time
	Demand  uint64 // Demand observations recorded
	Late    uint64 // observations dropped because their window had left the ring
	Windows uint64 // windows opened (a slot of the ring started over)
	Drivers int    // drivers the market remembers now (see [Market.Forget])
}

// DispatchStats is a snapshot of a [Dispatcher]'s counters since
// [NewDispatcher].
type DispatchStats struct {
	Requests    uint64 // valid Assign calls
	Premium     uint64 // of which premium
	Assigned    uint64 // Assign calls that returned a driver
	NoDriver    uint64 // Assign calls that ended with ErrNoDriver
	Canceled    uint64 // broadcasts ended by their context
	Rounds      uint64 // broadcast rounds started
	Timeouts    uint64 // rounds that timed out with nobody accepting
	Offers      uint64 // offers delivered by the Offerer
	OfferErrors uint64 // offers the Offerer failed to deliver
	Accepts     uint64 // Accept calls
	Won         uint64 // accepts that won a trip (a winner's repeated accepts not included)
	Repeated    uint64 // repeated accepts by a trip's winner, answered with its assignment
	Lost        uint64 // accepts refused with ErrClaimed
	Closed      uint64 // accepts refused with ErrTripClosed
	NoOffer     uint64 // accepts refused with ErrNoOffer alone
	Pending     int    // broadcasts in progress now
	Remembered  int    // settled broadcasts whose outcome is remembered now
}
