// Package rides implements the ride-hailing service of the design notes
// (Ola/Uber): riders see cabs nearby, get an ETA and a price with surge,
// book and cancel; drivers stream their location over a websocket, receive
// offers and accept them; a trip service keeps current trips and archives
// finished ones; a location-history writer keeps every ping; and a live
// map page draws drivers and the cells of the grid.
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
// Current trips live in a [TripStore] (MariaDB in the real setup); a trip
// that ends (completed or cancelled) is written at once to the [History]
// (Cassandra, partitioned by rider, newest first) and removed from the
// current store after [Config].Retain by the archiver in [Service.Run].
//
// # Limits
//
// One process holds the driver websockets and the offers it made: a
// driver's accept must reach the process that offered the trip. Running
// several processes needs a connection registry (driver to host) to route
// offers and accepts; this example does not have one yet. The Market and
// the set of busy drivers also live in process memory. Positions, claims,
// trips and history are in shared stores.
package rides
