package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ShutdownTimeout is how long a program gives its HTTP server to finish
// the requests in flight once it is asked to stop.
const ShutdownTimeout = 10 * time.Second

// Main runs a program: run gets a context that ends on SIGINT or SIGTERM
// and the command-line arguments; an error is printed as "name: error"
// and the process exits with status 1.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Setup returns the operability kit of service (see New) with its JSON
// logger at the level named by logLevel (debug, info, warn or error), the
// value of the program's -log-level flag.
func Setup(service, logLevel string) (*Ops, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	o := New(service)
	o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", service)
	return o, nil
}

// NewServer returns an HTTP server of h with the programs' timeouts (5 s
// to read request headers, 2 min idle) that logs its errors to log as
// warnings.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serving is an HTTP server and a service's background work running
// together. The program decides the order in which they stop: it calls
// Shutdown, StopRun and its own steps in the order it needs.
type Serving struct {
	srv      *http.Server
	serveErr chan error
	cancel   context.CancelFunc
	runDone  chan struct{}
	runErr   error
}

// Serve starts run, if not nil, with a context of its own that StopRun
// ends, and srv on ln.
func Serve(ln net.Listener, srv *http.Server, run func(ctx context.Context) error) *Serving {
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Serving{srv: srv, serveErr: make(chan error, 1), cancel: cancel, runDone: make(chan struct{})}
	go func() {
		defer close(s.runDone)
		if run != nil {
			s.runErr = run(runCtx)
		}
	}()
	go func() { s.serveErr <- srv.Serve(ln) }()
	return s
}

// Wait blocks until ctx ends or the server fails, and returns the
// server's error.
func (s *Serving) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.serveErr:
		return err
	}
}

// WaitOrRun is Wait that also returns when the background work ends, with
// its error.
func (s *Serving) WaitOrRun(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.serveErr:
		return err
	case <-s.runDone:
		return s.runErr
	}
}

// Shutdown stops the server gracefully (http.Server.Shutdown).
func (s *Serving) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// CancelRun ends the background work's context without waiting for it.
func (s *Serving) CancelRun() { s.cancel() }

// StopRun ends the background work's context, waits until it returns and
// returns its error.
func (s *Serving) StopRun() error {
	s.cancel()
	<-s.runDone
	return s.runErr
}

// Stopped is a program's result once it has shut down: http.ErrServerClosed
// in err, the normal end of serving, counts as success, and success is
// logged as a "stopped" record.
func Stopped(log *slog.Logger, err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}
