package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

func TestSetupLevel(t *testing.T) {
	if _, err := Setup("x", "loud"); err == nil {
		t.Fatal("Setup with level loud: no error")
	}
	o, err := Setup("x", "warn")
	if err != nil {
		t.Fatal(err)
	}
	if o.Logger.Enabled(context.Background(), slog.LevelInfo) || !o.Logger.Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("level warn not applied")
	}
}

// TestServingOrder serves a request, then stops the server and the
// background work in the order the caller chooses and gets Run's error.
func TestServingOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runErr := errors.New("run ended")
	var order []string
	s := Serve(ln, NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), log),
		func(ctx context.Context) error {
			<-ctx.Done()
			order = append(order, "run")
			return runErr
		})
	res, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	order = append(order, "http")
	if err := s.StopRun(); !errors.Is(err, runErr) {
		t.Fatalf("StopRun: %v", err)
	}
	if err := s.StopRun(); !errors.Is(err, runErr) {
		t.Fatalf("StopRun again: %v", err)
	}
	if len(order) != 2 || order[0] != "http" || order[1] != "run" {
		t.Fatalf("order %v", order)
	}
	if err := Stopped(log, http.ErrServerClosed); err != nil {
		t.Fatalf("Stopped(ErrServerClosed) = %v", err)
	}
}

// TestWaitOrRun returns when the background work ends first.
func TestWaitOrRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	failed := errors.New("failed")
	s := Serve(ln, NewServer(http.NotFoundHandler(), log), func(context.Context) error { return failed })
	if err := s.WaitOrRun(context.Background()); !errors.Is(err, failed) {
		t.Fatalf("WaitOrRun: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestAddChecks registers every check, and does nothing on a nil *Ops.
func TestAddChecks(t *testing.T) {
	var none *Ops
	none.AddChecks(map[string]Check{"x": func(context.Context) error { return nil }})
	o := New("x")
	o.AddChecks(map[string]Check{"a": func(context.Context) error { return nil }, "b": func(context.Context) error { return nil }})
	if len(o.checks) != 2 {
		t.Fatalf("%d checks; want 2", len(o.checks))
	}
}
