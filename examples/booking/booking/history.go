package booking

import (
	"errors"
	"net/http"
)

// ErrArchiveUnavailable reports that the booking history is not wired in.
var ErrArchiveUnavailable = errors.New("booking: booking history not available")

func (s *Service) serveUserBookings(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, ErrArchiveUnavailable)
}
