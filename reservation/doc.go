// Package reservation implements inventory holds for the booking service of
// an Airbnb or Booking.com: a guest reserves rooms of a room type for every
// night of a stay while paying, the payment books them, a failed or missing
// payment releases them, and the rooms are never sold twice.
//
// # The problem
//
// The design notes keep one row per (room, date) with an initial and an
// available quantity (available never below 0), a booking row per request
// with the states Reserved, Booked, Cancelled and Completed, and a Redis key
// with a TTL per hold: payment before the key expires books the room and
// issues an invoice; failure or expiry cancels the hold and gives the rooms
// back. Two things in that recipe go wrong in production. Concurrent
// requests that read "available" and then write it sell the last room
// several times. And Redis expiry events fire when the key is actually
// deleted, often seconds late or only when the key is touched, and are lost
// while no subscriber listens: rooms released only by the event come back
// late or never.
//
// # The model and its invariant
//
// A [Store] keeps, per (room, night), Initial and a counter avail, and for
// every Reserved hold a claim of its Quantity on each night, carrying the
// hold's deadline (see the [Store] documentation). Per night:
//
//	avail = Initial - Σ Quantity of Booked stays - Σ claims of Reserved holds
//	0 <= avail <= Initial
//
// Expiry is a predicate, as in pretix: a hold holds rooms while now <
// ExpiresAt. The rooms available at now are avail plus the claims whose
// deadline is at or before now, so capacity is exact at the instant of
// expiry with no background job. A transaction that needs rooms releases
// the expired claims of the nights it touches first, under the same row
// locks, then takes rooms with a conditional decrement (in SQL, UPDATE ...
// SET available = available - q WHERE ... AND available >= q, all nights in
// one transaction, rows locked in ascending date order). The sweeper
// ([Service.Run]) later turns each expired hold into Cancelled (emitting an
// event) and releases whatever claims are left; lazy release and sweeper
// never give a room back twice, because a claim is deleted exactly once.
//
// Guarantees, for any number of Services in any number of processes on
// one store:
//
//   - No oversell: on every night, Booked rooms plus rooms of holds before
//     their deadline never exceed Initial. A hold takes every night of the
//     stay or none.
//   - Expiry at the deadline: from ExpiresAt on, a hold's rooms count as
//     available to Availability and to every new Hold, with or without a
//     sweeper, and across crashes: a process killed between Hold and
//     Confirm leaks nothing.
//   - Bounded Cancelled state: while some Service runs Run, a hold whose
//     deadline passed is Cancelled by the first sweep that starts after the
//     deadline, at most Options.SweepInterval (plus one sweep's duration)
//     later, even if every wake-up is lost. An [Alarm] (the redisnotify
//     package: Redis TTL keys and keyspace notifications) only makes it
//     sooner.
//   - Idempotent holds, with Stripe's semantics: the same key and request
//     return the same result (the same booking, or the same sold-out
//     error) without doing the work again; the same key with another
//     request returns [ErrIdempotencyMismatch]; concurrent requests with
//     one key do the work once. Keys are remembered for
//     Options.KeyRetention (24 hours).
//   - Idempotent callbacks: a payment delivered twice, or concurrently,
//     books once and issues one invoice; a failure reported after a
//     success changes nothing.
//
// # States
//
//	Reserved -> Booked | Cancelled
//	Booked   -> Completed | Cancelled
//
// [Service.Confirm] books a hold (Reserved -> Booked, with an invoice ID);
// [Service.Fail] and the sweeper cancel it; [Service.Cancel] cancels a hold
// or, as Options.CancelPolicy allows, a booked stay; the sweeper or
// [Service.Complete] completes a stay after check-out. Cancelled and
// Completed are terminal.
//
// A payment after the deadline follows Options.LatePayment. Under
// LateRebook (the default) the stay is booked if every night still has the
// rooms (the hold's own unreleased rooms count): in place while the hold is
// still Reserved, or, once the sweeper has cancelled it, as a new booking
// created Booked whose Rebooks field names the hold (a terminal state is
// never revived). Otherwise the hold is Cancelled with RefundRequired set,
// [EventRefundRequired] is emitted and Confirm returns
// [ErrRefundRequired]. A success after [Service.Fail] is treated as late;
// a success after the guest cancelled is always refunded.
//
// Events ([Emitter]) are emitted after each change is committed, at most
// once: a crash between the commit and the emit loses the event, not the
// change. Time is an input (Options.Now); every deadline is computed by
// the Service and passed to the store, which never reads a clock.
//
// # History and archiving
//
// [Service.UserBookings] lists a user's bookings newest first, by pages
// with a [Cursor]. [Service.RoomBookings] lists the current bookings
// of a room over a range of nights (Booked stays and holds before their
// deadline, by check-in), the bookings behind the counts of
// [Service.Availability]; sqlstore serves it from an index on (room,
// state, check-in). Finished bookings leave the store through the archive
// block: [Service.Archivable] lists Cancelled and Completed bookings last
// changed before a cutoff, and [Service.Purge] deletes them once they are
// in cold storage, only if they are still terminal and at the version
// that was copied, so it never deletes a live hold or stay. The
// archivesource package wires both into an archive.Archiver and serves a
// user's live bookings to archive.Merge.
//
// # What it does not do
//
// It does not price, search or pick rooms: a room ID is a room type with a
// count per night. It does not refund: RefundRequired and the event tell
// the payment system to. Clocks of Services sharing a store should agree:
// a hold expires when the clock of whoever looks says so. Rooms are
// counted per night in UTC dates; the hotel's time zone is the caller's.
//
// # Adapters
//
//   - memstore: in memory, for tests and single-process programs.
//   - sqlstore: MariaDB/MySQL, the design notes' availability database.
//     One READ COMMITTED transaction per operation, a fixed lock order
//     (booking row, inventory rows in date order, claims), deadlocks and
//     lock wait timeouts returned as [ErrConflict] and retried by the
//     Service, and a CHECK constraint as the last line of defence.
//   - archivesource: not a store; the bookings of a Service as the
//     archive block's Source and live Lister (Cassandra history).
//   - redisnotify: not a store; an [Alarm] that sets a Redis key with the
//     hold's deadline and, from the keyspace notification of its expiry,
//     calls [Service.Wake].
//   - storetest: the conformance suite every store runs, with the races
//     (200 goroutines for the last 10 rooms), callbacks, late payments and
//     processes killed with SIGKILL.
//
// # Running
//
//	svc, err := reservation.New(sqlstore.New(db, nil), &reservation.Options{Emitter: e, Alarm: alarm})
//	go svc.Run(ctx)                 // the sweeper; any number of processes may run one
//	hold, err := svc.Hold(ctx, reservation.HoldRequest{Key: requestID, User: u, Room: r, Quantity: 1, CheckIn: in, CheckOut: out})
//	// ... the payment provider calls back:
//	b, err := svc.Confirm(ctx, hold.ID, reservation.Payment{ID: chargeID})
//	b, err = svc.Fail(ctx, hold.ID)
package reservation
