package storetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// ChildEnv names the environment variable that makes a test binary run as a
// child process of [RunProcesses].
const ChildEnv = "RESERVATION_STORETEST_CHILD"

const (
	envRoom = "RESERVATION_STORETEST_ROOM"
	envSeed = "RESERVATION_STORETEST_SEED"
)

// processNights is the number of nights the children book, from D0.
const processNights = 3

// processTTL is the children's hold duration: no hold expires while the
// parent looks.
const processTTL = time.Hour

// IsChild reports whether this process is a child started by
// [RunProcesses].
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// ChildMain runs the workload of a child process on the store that open
// returns, then exits the process. Call it from TestMain before m.Run when
// [IsChild] reports true:
//
//	func TestMain(m *testing.M) {
//		if storetest.IsChild() {
//			storetest.ChildMain(openFromEnv) // reads what ProcessConfig.Env set
//		}
//		os.Exit(m.Run())
//	}
//
// The child runs a Service on the real clock and loops until it is killed:
// it holds 1 room for a random stay within the first nights from D0, prints
// "h <id>" once the hold returned, and confirms every other hold, printing
// "c <id>" once Confirm returned.
func ChildMain(open func(ctx context.Context) (reservation.Store, error)) {
	err := child(open) // returns only on failure: the child runs until it is killed
	fmt.Fprintln(os.Stderr, "storetest child:", err)
	os.Exit(1)
}

func child(open func(ctx context.Context) (reservation.Store, error)) error {
	ctx := context.Background()
	store, err := open(ctx)
	if err != nil {
		return err
	}
	svc, err := reservation.New(store, &reservation.Options{HoldTTL: processTTL})
	if err != nil {
		return err
	}
	seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	r := mrand.New(mrand.NewPCG(seed, 1))
	room := os.Getenv(envRoom)
	for i := 0; ; i++ {
		from := r.IntN(processNights)
		to := from + 1 + r.IntN(processNights-from)
		b, err := svc.Hold(ctx, reservation.HoldRequest{
			Key: fmt.Sprintf("child-%d-%d", seed, i), User: "child", Room: room, Quantity: 1,
			CheckIn: D0.AddDays(from), CheckOut: D0.AddDays(to),
		})
		if errors.Is(err, reservation.ErrSoldOut) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Printf("h %s\n", b.ID)
		if i%2 == 0 {
			if _, err := svc.Confirm(ctx, b.ID, reservation.Payment{ID: "pay-" + b.ID}); err != nil {
				return err
			}
			fmt.Printf("c %s\n", b.ID)
		}
	}
}

// ProcessConfig describes the backend for [RunProcesses].
type ProcessConfig struct {
	// Open returns a handle in the parent.
	Open func(tb testing.TB) reservation.Store
	// Env is added to each child's environment so that the function given
	// to ChildMain finds the backend (an address, a DSN).
	Env []string
	// Processes is the number of children running at once. Zero means 3.
	Processes int
	// Rounds is the number of kill rounds. Zero means 2.
	Rounds int
}

// RunProcesses runs, as a subtest of t, the case that needs separate
// processes: KilledBetweenHoldAndConfirm. In each round, children hold and
// confirm rooms of one room type on the real clock and are killed with
// SIGKILL mid-stream (between a Hold and its Confirm, or inside either).
// Then, from the parent: every printed confirmation is Booked; the rooms
// taken equal the Booked stays plus the live holds found in the store; at
// an instant past every deadline the rooms of the holds are available
// without any sweep; and after one sweep at that instant no Reserved hold
// is left and the stored counts alone give back every room not Booked.
// The test binary must call [ChildMain] from TestMain.
func RunProcesses(t *testing.T, cfg ProcessConfig) {
	if cfg.Open == nil {
		t.Fatal("storetest: ProcessConfig.Open is nil")
	}
	if cfg.Processes <= 0 {
		cfg.Processes = 3
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 2
	}
	t.Run("KilledBetweenHoldAndConfirm", func(t *testing.T) { testKilled(t, cfg) })
}

type proc struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	lines   []string
	count   atomic.Int64
	reached chan struct{}
	done    chan struct{}
}

func start(t *testing.T, ctx context.Context, cfg ProcessConfig, room string, want int64) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Env = append(cmd.Env, ChildEnv+"=1", envRoom+"="+room, envSeed+"="+strconv.FormatUint(mrand.Uint64(), 10))
	p := &proc{cmd: cmd, reached: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		defer close(p.done)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a partial last line was cut by the kill
			}
			p.lines = append(p.lines, strings.TrimSuffix(line, "\n"))
			if p.count.Add(1) == want {
				close(p.reached)
			}
		}
	}()
	return p
}

func testKilled(t *testing.T, cfg ProcessConfig) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store := cfg.Open(t)
	room := Unique("room")
	const capacity = 400 // more than the children can hold, so that they never stall sold out
	if err := store.SetInventory(ctx, room, D0, D0+processNights, capacity, time.Now()); err != nil {
		t.Fatal(err)
	}
	held, confirmed := map[string]bool{}, map[string]bool{}
	for round := range cfg.Rounds {
		procs := make([]*proc, cfg.Processes)
		for i := range procs {
			procs[i] = start(t, ctx, cfg, room, int64(20+mrand.IntN(30)))
		}
		for i, p := range procs {
			select {
			case <-p.reached:
			case <-p.done:
				err := p.cmd.Wait()
				t.Fatalf("round %d: child %d ended early: %v: %s", round, i, err, p.stderr.String())
			}
		}
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
		}
		for i, p := range procs {
			<-p.done
			err := p.cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("round %d: child %d: %v; want killed by SIGKILL: %s", round, i, err, p.stderr.String())
			}
			for _, line := range p.lines {
				kind, id, ok := strings.Cut(line, " ")
				switch {
				case ok && kind == "h":
					held[id] = true
				case ok && kind == "c":
					confirmed[id] = true
				default:
					t.Fatalf("child printed %q", line)
				}
			}
		}
	}

	now := time.Now()
	for id := range held {
		b, err := store.Get(ctx, id)
		if err != nil {
			t.Fatalf("printed hold %s: %v", id, err)
		}
		if confirmed[id] && b.State != reservation.Booked {
			t.Fatalf("printed confirmation %s is %s; want booked", id, b.State)
		}
		if b.State != reservation.Booked && b.State != reservation.Reserved {
			t.Fatalf("hold %s is %s; want reserved or booked", id, b.State)
		}
	}
	// What the store holds for the room, by state.
	listed := func(list []reservation.Booking, err error) []reservation.Booking {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []reservation.Booking
		for _, b := range list {
			if b.Room == room {
				out = append(out, b)
			}
		}
		return out
	}
	booked := listed(store.Ended(ctx, reservation.MaxDate, 1<<20))
	reserved := listed(store.Expired(ctx, now.Add(2*processTTL), 1<<20))
	taken := func(lists ...[]reservation.Booking) []int {
		out := slices.Repeat([]int{capacity}, processNights)
		for _, l := range lists {
			for _, b := range l {
				for d := b.CheckIn; d < b.CheckOut; d++ {
					out[d-D0] -= b.Quantity
				}
			}
		}
		return out
	}
	avail := func(at time.Time) []int {
		t.Helper()
		nights, err := store.Inventory(ctx, room, D0, D0+processNights, at)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, processNights)
		for _, n := range nights {
			out[n.Date-D0] = n.Available
		}
		return out
	}
	t.Logf("%d rounds of %d children killed: %d holds printed, %d confirmations printed; store: %d booked, %d reserved",
		cfg.Rounds, cfg.Processes, len(held), len(confirmed), len(booked), len(reserved))
	if got, want := avail(now), taken(booked, reserved); !slices.Equal(got, want) {
		t.Fatalf("available now %v; booked and live holds say %v", got, want)
	}
	past := now.Add(2 * processTTL)
	if got, want := avail(past), taken(booked); !slices.Equal(got, want) {
		t.Fatalf("available past every deadline, no sweep: %v; want %v (capacity - booked)", got, want)
	}
	svc, err := reservation.New(store, &reservation.Options{Now: func() time.Time { return past }, CompleteAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if left := listed(store.Expired(ctx, past, 1<<20)); len(left) != 0 {
		t.Fatalf("%d holds still reserved after the sweep", len(left))
	}
	// No claim is left: the stored counts give the same answer at any
	// instant.
	if got, want := avail(now), taken(booked); !slices.Equal(got, want) {
		t.Fatalf("available after the sweep %v; want %v", got, want)
	}
}
