// Package proctest runs example programs as child processes in tests: a
// built command with its JSON log on standard error (Build, Start), or the
// test binary itself re-executed to run one test as a process that the
// parent kills (StartChild).
package proctest

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the command in the current directory into a temporary
// directory and returns the path of the binary.
func Build(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is a command running with its JSON log on standard error.
type Process struct {
	// Addr is the address of the "listening" log record.
	Addr  string
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

// Start runs bin with -addr 127.0.0.1:0 and args, and waits until it logs a
// "listening" record whose addr field it keeps in Addr. The process is
// killed when the test ends if it still runs.
func Start(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		pw.Close()
		p.done <- err
	}()
	listening := make(chan string, 1)
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			_ = json.Unmarshal(sc.Bytes(), &rec)
			if rec.Msg == "listening" {
				listening <- rec.Addr
			}
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.Addr = <-listening:
	case err := <-p.done:
		t.Fatalf("the command exited before listening: %v\n%s", err, p.Log())
	case <-time.After(3 * time.Minute):
		t.Fatalf("the command did not listen\n%s", p.Log())
	}
	return p
}

// Log drains the lines logged so far, without waiting for more.
func (p *Process) Log() string {
	var b strings.Builder
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return b.String()
			}
			b.WriteString(l + "\n")
		default:
			return b.String()
		}
	}
}

// rest returns the lines not read yet, up to the end of the output. Call
// it only once the process has ended: the output is read by another
// goroutine, which may still be handing over the last lines when Wait
// returns.
func (p *Process) rest() string {
	var b strings.Builder
	for l := range p.lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Stop sends SIGTERM and requires a clean exit: status 0 and a "stopped"
// log record.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		logged := p.rest()
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; want status 0\n%s", err, logged)
		}
		if !strings.Contains(logged, `"msg":"stopped"`) {
			t.Fatalf("no \"stopped\" record after SIGTERM:\n%s", logged)
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after SIGTERM\n%s", p.Log())
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// Child is the test binary re-executed to run one test as a process that
// the parent kills.
type Child struct {
	t     testing.TB
	cmd   *exec.Cmd
	lines *bufio.Scanner
	once  sync.Once
}

// StartChild runs the test named test in a new process of the test binary
// with the environment variable envName set to config as JSON. The child's
// standard error goes to the parent's; read its standard output with
// Await. The child is killed when the test ends if it still runs.
func StartChild(t testing.TB, test, envName string, config any) *Child {
	t.Helper()
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), envName+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Child{t: t, cmd: cmd, lines: bufio.NewScanner(out)}
	t.Cleanup(c.Kill)
	return c
}

// Await returns the first line of the child's output that starts with
// prefix, without the prefix, and then drains the rest. It fails the test
// if the child ends without printing one.
func (c *Child) Await(prefix string) string {
	c.t.Helper()
	for c.lines.Scan() {
		if rest, ok := strings.CutPrefix(c.lines.Text(), prefix); ok {
			go func() {
				for c.lines.Scan() {
				}
			}()
			return rest
		}
	}
	c.t.Fatalf("child ended without printing %q: %v", prefix, c.lines.Err())
	return ""
}

// Kill sends SIGKILL to the child and waits for it to end. Only the first
// call does anything.
func (c *Child) Kill() {
	c.once.Do(func() {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
}
