package reservation

import (
	"context"
	"errors"
	"time"
)

// SweepResult counts what one [Service.Sweep] did.
type SweepResult struct {
	Expired    int // Reserved holds past their deadline, now Cancelled
	Completed  int // Booked stays past check-out, now Completed
	KeysPruned int // idempotency records forgotten
}

// Sweep runs one pass of the sweeper: it cancels every Reserved hold whose
// deadline is at or before now (emitting an [EventCancelled] with
// ReasonExpired for each), completes the Booked stays whose check-out day
// ended Options.CompleteAfter ago, and forgets idempotency keys older than
// Options.KeyRetention. A booking changed concurrently by another sweeper
// or by a callback is left to that change. [Service.Run] calls Sweep
// periodically; call it yourself to sweep from a cron job or a test.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	err := s.sweep(ctx, &res)
	if err == nil {
		s.sweeps.Add(1)
	}
	return res, err
}

func (s *Service) sweep(ctx context.Context, res *SweepResult) error {
	// Expired holds.
	for {
		now := s.now()
		list, err := s.store.Expired(ctx, now, s.sweepBatch)
		if err != nil {
			return err
		}
		done := 0
		for _, b := range list {
			nb, err := s.store.Transition(ctx, b.ID, Transition{
				From: Reserved, Version: b.Version, To: Cancelled, Now: now, Reason: ReasonExpired,
			})
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				continue // changed meanwhile (paid, failed, swept elsewhere): not ours
			}
			if err != nil {
				return err
			}
			done++
			res.Expired++
			s.expired.Add(1)
			s.emit(ctx, EventCancelled, nb, now)
		}
		if len(list) < s.sweepBatch || done == 0 {
			break
		}
	}
	// Ended stays.
	if s.completeAfter > 0 {
		for {
			now := s.now()
			list, err := s.store.Ended(ctx, DateFromTime(now.UTC().Add(-s.completeAfter)), s.sweepBatch)
			if err != nil {
				return err
			}
			done := 0
			for _, b := range list {
				if _, err := s.complete(ctx, b, now); err != nil {
					if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
						continue
					}
					return err
				}
				done++
				res.Completed++
			}
			if len(list) < s.sweepBatch || done == 0 {
				break
			}
		}
	}
	// Old idempotency keys.
	for {
		n, err := s.store.PruneKeys(ctx, s.now().Add(-s.keyRetention), s.sweepBatch)
		if err != nil {
			return err
		}
		res.KeysPruned += n
		if n < s.sweepBatch {
			return nil
		}
	}
}

// Wake asks a running [Service.Run] to sweep now instead of at its next
// tick. It never blocks; wake-ups while a sweep is pending are merged.
// Alarms (such as the redisnotify package) call it when a deadline passes.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run is the sweeper: it calls [Service.Sweep] at once, then every
// Options.SweepInterval and whenever [Service.Wake] is called, until ctx
// ends; then it returns nil. Sweep errors are logged and counted
// (Stats.SweepErrors) and the next pass retries. Run starts no goroutine.
// It returns ErrRunning if this Service's Run is already running; Services
// in other processes may run theirs at the same time (each expired hold is
// cancelled, and its event emitted, by exactly one of them).
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	t := time.NewTicker(s.sweepInterval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.sweepErrs.Add(1)
			s.log.Warn("reservation: sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}
