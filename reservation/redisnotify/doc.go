// Package redisnotify wakes the sweeper of a [reservation.Service] soon after
// a hold's deadline, with the mechanism of the design notes: a Redis key per
// hold that expires at the deadline, and the keyspace notification of its
// expiry.
//
// It is only a hint. Redis publishes the "expired" event when it actually
// deletes the key, which on a busy server is often seconds after the
// deadline, or only when the key is next touched; Pub/Sub drops events
// while no subscriber is connected; and a key set by a process that died
// before Arm never exists. None of that matters for correctness: the rooms
// of a hold are available from its deadline on (the store's predicate), and
// the sweeper's own period (reservation Options.SweepInterval) bounds the
// time an expired hold stays Reserved. A Notifier only shortens that time.
//
//	n := redisnotify.New(rdb, nil)
//	svc, _ := reservation.New(store, &reservation.Options{Alarm: n})
//	go svc.Run(ctx)
//	go n.Run(ctx, svc.Wake)
//
// The server must publish expired events: notify-keyspace-events must
// contain E and x (or A); [Notifier.Check] tells, [Notifier.Enable] adds
// them. Events are per node: with Redis Cluster only keys on the node the
// client subscribes to wake the sweeper early.
package redisnotify
