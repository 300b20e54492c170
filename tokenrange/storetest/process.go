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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/tokenrange"
)

// ChildEnv names the environment variable that makes a test binary run as a
// child process of [RunProcesses]. Its value is the child's role.
const ChildEnv = "TOKENRANGE_STORETEST_CHILD"

const (
	envNS    = "TOKENRANGE_STORETEST_NS"
	envCount = "TOKENRANGE_STORETEST_COUNT"
	envSize  = "TOKENRANGE_STORETEST_SIZE"
	envSeed  = "TOKENRANGE_STORETEST_SEED"
)

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
// Role "alloc" runs 4 goroutines of Allocate and prints "r lo hi" per range.
// Role "lease" runs a Leaser with Run and 2 goroutines of Next and prints
// "t token" per token, until it is killed.
func ChildMain(open func(ctx context.Context) (tokenrange.Store, error)) {
	err := child(open)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func child(open func(ctx context.Context) (tokenrange.Store, error)) error {
	ctx := context.Background()
	store, err := open(ctx)
	if err != nil {
		return err
	}
	alloc, err := tokenrange.NewAllocator(store, &tokenrange.AllocatorOptions{MaxAttempts: 100})
	if err != nil {
		return err
	}
	ns := os.Getenv(envNS)
	count, _ := strconv.Atoi(os.Getenv(envCount))
	size, _ := strconv.ParseUint(os.Getenv(envSize), 10, 64)
	seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	fail := func(err error) { firstErr.CompareAndSwap(nil, &err) }

	switch role := os.Getenv(ChildEnv); role {
	case "alloc":
		for g := range 4 {
			wg.Go(func() {
				rnd := mrand.New(mrand.NewPCG(seed, uint64(g)))
				for range count {
					r, err := alloc.Allocate(ctx, ns, 1+rnd.Uint64N(size))
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					fmt.Fprintf(out, "r %d %d\n", r.Lo, r.Hi)
					mu.Unlock()
				}
			})
		}
	case "lease":
		l, err := tokenrange.NewLeaser(alloc, ns, &tokenrange.LeaserOptions{MinSize: size, MaxSize: size})
		if err != nil {
			return err
		}
		go func() { _ = l.Run(ctx) }() // runs until the process is killed
		lines := 0
		for range 2 {
			wg.Go(func() {
				for range count {
					tok, err := l.Next(ctx)
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					fmt.Fprintf(out, "t %d\n", tok)
					if lines++; lines%16 == 0 {
						if err := out.Flush(); err != nil {
							fail(err)
						}
					}
					mu.Unlock()
				}
			})
		}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	wg.Wait()
	if err := out.Flush(); err != nil {
		return err
	}
	if p := firstErr.Load(); p != nil {
		return *p
	}
	return nil
}

// ProcessConfig describes the backend for [RunProcesses].
type ProcessConfig struct {
	// Open returns a handle in the parent, used to read counters.
	Open func(tb testing.TB) tokenrange.Store
	// Env is added to each child's environment so that the function given
	// to ChildMain finds the backend (an address, a DSN, a key prefix).
	Env []string
	// Processes is the number of children running at once. Zero means 3.
	Processes int
	// Rounds is the number of kill rounds. Zero means 3.
	Rounds int
}

// RunProcesses runs, as subtests of t, the cases that need separate
// processes. The test binary must call [ChildMain] from TestMain.
//
//   - ConcurrentProcesses: Processes children allocate at once; all ranges
//     are disjoint and cover [0, counter) with no gap.
//   - KillWhileLeasing: in each of Rounds rounds, Processes children lease
//     and print tokens and are killed with SIGKILL mid-stream; fresh
//     children continue in the next round. No token is printed twice, each
//     round's tokens lie above the previous round's, and the tokens lost
//     (below the counter, never printed) are at most two ranges (and the
//     unflushed output) per killed child.
func RunProcesses(t *testing.T, cfg ProcessConfig) {
	if cfg.Open == nil {
		t.Fatal("storetest: ProcessConfig.Open is nil")
	}
	if cfg.Processes <= 0 {
		cfg.Processes = 3
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 3
	}
	t.Run("ConcurrentProcesses", func(t *testing.T) { testConcurrentProcesses(t, cfg) })
	t.Run("KillWhileLeasing", func(t *testing.T) { testKillWhileLeasing(t, cfg) })
}

// proc is a running child whose stdout is read line by line.
type proc struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	lines   []string // complete lines only; read after done
	count   atomic.Int64
	reached chan struct{} // closed when count reaches want
	done    chan struct{} // closed at EOF of stdout
}

func start(t *testing.T, ctx context.Context, cfg ProcessConfig, role, ns string, count int, size uint64, want int64) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Env = append(cmd.Env,
		ChildEnv+"="+role, envNS+"="+ns, envCount+"="+strconv.Itoa(count),
		envSize+"="+strconv.FormatUint(size, 10), envSeed+"="+strconv.FormatUint(mrand.Uint64(), 10))
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
		closed := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a partial last line was cut by the kill: not printed
			}
			p.lines = append(p.lines, strings.TrimSuffix(line, "\n"))
			if p.count.Add(1) == want && !closed {
				closed = true
				close(p.reached)
			}
		}
	}()
	return p
}

// wait waits for stdout to end and for the process, and returns its error.
func (p *proc) wait() error {
	<-p.done
	return p.cmd.Wait()
}

func testConcurrentProcesses(t *testing.T, cfg ProcessConfig) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := Namespace("procs")
	const perGoroutine = 25
	procs := make([]*proc, cfg.Processes)
	for i := range procs {
		procs[i] = start(t, ctx, cfg, "alloc", ns, perGoroutine, 40, -1)
	}
	var ranges []tokenrange.Range
	for i, p := range procs {
		if err := p.wait(); err != nil {
			t.Fatalf("child %d: %v: %s", i, err, p.stderr.String())
		}
		for _, line := range p.lines {
			var r tokenrange.Range
			if _, err := fmt.Sscanf(line, "r %d %d", &r.Lo, &r.Hi); err != nil {
				t.Fatalf("child %d printed %q: %v", i, line, err)
			}
			ranges = append(ranges, r)
		}
	}
	if want := cfg.Processes * 4 * perGoroutine; len(ranges) != want {
		t.Fatalf("children printed %d ranges; want %d", len(ranges), want)
	}
	gap, err := CheckDisjoint(ranges)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, r := range ranges {
		total += r.Len()
	}
	if c := counter(t, cfg.Open(t), ns); gap != 0 || c != total {
		t.Fatalf("gap %d, counter %d, tokens %d; want no gap and counter == tokens", gap, c, total)
	}
}

func testKillWhileLeasing(t *testing.T, cfg ProcessConfig) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := Namespace("kill")
	const size = 40              // small ranges: many fetches, so kills land mid-fetch too
	seen := make(map[uint64]int) // token -> round
	var prevMax uint64
	printed := 0
	for round := range cfg.Rounds {
		procs := make([]*proc, cfg.Processes)
		for i := range procs {
			want := int64(800 + mrand.IntN(800))
			procs[i] = start(t, ctx, cfg, "lease", ns, 1<<20, size, want)
		}
		for i, p := range procs {
			select {
			case <-p.reached:
			case <-p.done:
				err := p.wait()
				t.Fatalf("round %d: child %d ended early: %v: %s", round, i, err, p.stderr.String())
			}
		}
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
		}
		roundMin, roundMax := ^uint64(0), uint64(0)
		for i, p := range procs {
			err := p.wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("round %d: child %d: %v; want killed by SIGKILL: %s", round, i, err, p.stderr.String())
			}
			for _, line := range p.lines {
				var tok uint64
				if _, err := fmt.Sscanf(line, "t %d", &tok); err != nil {
					t.Fatalf("child printed %q: %v", line, err)
				}
				if r, dup := seen[tok]; dup {
					t.Fatalf("token %d printed in round %d and again in round %d", tok, r, round)
				}
				seen[tok] = round
				roundMin, roundMax = min(roundMin, tok), max(roundMax, tok)
				printed++
			}
		}
		if round > 0 && roundMin <= prevMax {
			t.Fatalf("round %d printed %d, not above round %d's highest token %d", round, roundMin, round-1, prevMax)
		}
		prevMax = roundMax
	}
	c := counter(t, cfg.Open(t), ns)
	if prevMax >= c {
		t.Fatalf("token %d printed, but the counter is %d", prevMax, c)
	}
	lost := c - uint64(printed)
	// Per killed child: the current and the next range, plus up to 32
	// tokens taken from an earlier range but not yet flushed to stdout.
	bound := uint64(cfg.Rounds*cfg.Processes) * (2*size + 32)
	t.Logf("%d rounds of %d children: %d tokens printed, counter %d, %d lost (bound %d)",
		cfg.Rounds, cfg.Processes, printed, c, lost, bound)
	if lost > bound {
		t.Fatalf("%d tokens lost; want at most %d (two ranges and a write buffer per killed child)", lost, bound)
	}
}
