// Package archivesource connects the reservation block to the archive
// block: a [reservation.Service]'s finished bookings as an
// [archive.Source], and a user's live bookings as an [archive.Lister] for
// [archive.Merge].
//
// A booking becomes an [archive.Record] with Owner = User, ID = the
// booking ID, At = Created and Data = the booking as JSON ([Encode],
// [Decode]). A booking is due once it is Cancelled or Completed and its
// last change (Updated) is older than the archiver's cutoff. The delete
// step is [reservation.Service.Purge] at the version that was copied, so
// it never deletes a live hold or stay, and a booking changed after it was
// copied (a cancelled one marked RefundRequired) stays live until the next
// pass copies its new version.
//
//	src := archivesource.New(svc)
//	arch, err := archive.New(src, cold, &archive.Options{Age: 90 * 24 * time.Hour})
//	go arch.Run(ctx)
//	recs, next, err := archive.Merge(ctx, user, archive.Cursor{}, 20, src, cold)
//	for _, r := range recs { b, err := archivesource.Decode(r) ... }
package archivesource
