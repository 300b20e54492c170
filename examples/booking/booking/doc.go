// Package booking implements the hotel booking service of the design notes
// (Airbnb / Booking.com): hotel owners onboard and update hotels and rooms,
// guests search hotels with typo tolerance, book rooms and pay, users see
// their bookings, and managers see the current bookings of a hotel.
//
// # What it wires
//
//   - Hotels: the information database (hotel, hotel facilities, rooms, room
//     facilities, facilities, locality), a [HotelStore]: memstore, or MariaDB
//     through sqlstore.
//   - Bookings: the reservation block. POST /bookings is
//     reservation.Service.Hold (with the Idempotency-Key header), a
//     successful payment callback is Confirm, a failed one Fail; the
//     sweeper (in [Service.Run]) cancels holds whose payment never came,
//     woken early by Redis expiry notifications in the real setup
//     (reservation/redisnotify). Putting a room offers its quantity on each
//     of the next Config.InventoryDays nights.
//   - Search: the search block. Every hotel change is published as a
//     change event (search/eventfeed's format) on the hotel topic, and this
//     process's consumer group applies it to an in-memory index; the index
//     is rebuilt from the database (search/sqlsource) at start and on POST
//     /search/rebuild. Hot queries go through search/querycache (Redis in
//     the real setup). "airprot" finds "Airport Inn".
//   - The management view: the rooms offered, available and taken on each
//     of the next nights of a hotel, and the current bookings behind
//     those counts (booked stays and live holds, from
//     reservation.Service.RoomBookings), read from the availability
//     database through the cache block (Redis in the real setup), so that
//     managers do not load that database. Booking events invalidate it: this
//     process's at once, other processes' through the booking topic.
//   - History: the archive block moves bookings cancelled or completed more
//     than Config.ArchiveAge ago to Cassandra, partitioned by user, and GET
//     /users/{id}/bookings merges the live and archived bookings, newest
//     first, with an opaque cursor.
//   - Events: booking events ([BookingEvent]) go to the booking topic (Kafka
//     through the events block in the real setup) for analytics and for
//     the views of other processes.
//
// # Bad input
//
// Every request is checked before anything changes: an unknown or inactive
// room, a quantity below 1, a check-out not after the check-in, a stay over
// the longest allowed, a check-in before today (UTC), a payment for an
// unknown booking, a success for a booking cancelled by its user, a
// failure for a booking already cancelled or completed, a second payment.
// The answer is a 4xx with an [ErrorBody] naming the error code and the
// field.
//
// # Late payments
//
// A success callback after the hold's deadline follows the reservation
// block's late-payment policy, also once the sweeper has cancelled the
// hold: the stay is booked if every night is still free (a new booking
// whose Rebooks names the hold), otherwise the payment is recorded on the
// cancelled hold with RefundRequired. Both are answered 200, with the
// booking that says which (see [Service.Pay]).
//
// # What it does not do
//
// Hotel change events are published after the database commit, at most
// once: a process that dies in between leaves the index behind until the
// hotel changes again or the index is rebuilt. A search sees a change only
// once its event is applied, and a cached result may be
// Config.QueryCacheTTL old. A booking moved to the archive is found by
// GET /bookings/{id} only with ?user= naming its owner (the archive is
// partitioned by user and a booking ID says nothing of its user), by a
// scan of that user's archived bookings; it takes no payment. A hold in
// the management view stays listed after its deadline until its
// cancellation event invalidates the view. Putting a room
// sets its inventory before its row, so two concurrent puts of one room
// may leave the inventory of one and the row of the other until the next
// put. Prices are shown, not charged.
package booking
