// Package rides implements the ride-hailing service of the design notes
// (Ola/Uber): riders see cabs nearby, get an ETA and a price with surge,
// book and cancel; drivers stream their location over a websocket, receive
// offers and accept them; a trip service keeps current trips and archives
// finished ones (the archive block); a location-history writer keeps every
// ping; and a live map page draws drivers and the cells of the grid.
//
// # Blocks wired
//
//   - geogrid: the adaptive grid of cells (driver positions, nearest-k
//     queries), its Market (supply and demand per cell, the input of surge),
//     its Dispatcher (premium riders get the best driver at once; everyone
//     else is broadcast to the nearest drivers and the first to accept
//     wins through an atomic claim), its Fraud check, and the StraightLine
//     ETA (great-circle distance times a detour factor at city speed; no
//     road routing yet).
//   - events: location pings and trip events go through a lossy batching
//     publisher to a topic; a consumer group writes pings into the location
//     history. Kafka in the real setup, membus in memory.
//   - archive: the Archiver moves ended trips to the cold store
//     (archive/cqlstore, or archive/memstore in memory) and Merge shows a
//     rider's live and archived trips as one list.
//
// # Trip lifecycle
//
//	requested -> offered -> accepted -> started -> completed
//	     \           \           \
//	      +-----------+-----------+--> cancelled
//
// A premium trip goes from requested to accepted directly. A trip nobody
// accepts is cancelled with reason "no_driver". Every transition is a
// compare-and-set on the trip's version in the [TripStore], so a rider's
// cancel and a driver's accept that race leave exactly one outcome. Of any
// number of drivers accepting one trip, exactly one wins.
//
// Current trips live in a [TripStore] (MariaDB in the real setup). A trip
// that ends (completed or cancelled) stays there for [Config].ArchiveAge;
// then an archive.Archiver, run by [Service.Run], moves it to the cold
// store of the archive block (Cassandra, partitioned by rider, newest
// first): it copies the trip first and deletes it from the TripStore
// after, and only if it has ended. [TripSource] is the TripStore seen by
// the archive block; [EncodeTrip] and [DecodeTrip] are the archived form
// of a trip. [Service.RiderHistory] merges the ended trips of both stores
// (archive.Merge) into pages with an opaque cursor, and lists every trip
// once, also while it is in both stores (a process killed between the
// copy and the delete).
//
// # Limits
//
// One process holds the driver websockets and the offers it made: a
// driver's accept must reach the process that offered the trip. Running
// several processes needs a connection registry (driver to host) to route
// offers and accepts; this example does not have one yet. The Market and
// the set of busy drivers also live in process memory. Positions, claims,
// trips and archived trips are in shared stores.
package rides
