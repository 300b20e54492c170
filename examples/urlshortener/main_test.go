package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build compiles this command into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "urlshortener")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is the command running with its JSON log on stderr.
type process struct {
	cmd   *exec.Cmd
	addr  string
	lines chan string // log lines after "listening"
	done  chan error
}

func startBinary(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1)}
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
		}
	})
	select {
	case p.addr = <-listening:
	case err := <-p.done:
		t.Fatalf("the command exited before listening: %v\n%s", err, p.log())
	case <-time.After(3 * time.Minute):
		t.Fatalf("the command did not listen\n%s", p.log())
	}
	return p
}

// log drains the lines logged so far.
func (p *process) log() string {
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
func (p *process) rest() string {
	var b strings.Builder
	for l := range p.lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// stop sends SIGTERM and requires a clean exit.
func (p *process) stop(t *testing.T) {
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
		t.Fatalf("still running a minute after SIGTERM\n%s", p.log())
	}
}

var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// exercise checks /healthz, creates a link, follows it once as a browser
// and waits until the click is counted.
func exercise(t *testing.T, p *process) {
	t.Helper()
	base := "http://" + p.addr
	defer noFollow.CloseIdleConnections()
	res, err := noFollow.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d %s", res.StatusCode, hb)
	}
	res, err = noFollow.Post(base+"/api/v1/links", "application/json", strings.NewReader(`{"url":"https://example.com/from-the-binary"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Code     string `json:"code"`
		ShortURL string `json:"short_url"`
	}
	_ = json.NewDecoder(res.Body).Decode(&c)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || c.Code == "" {
		t.Fatalf("create: %d %+v", res.StatusCode, c)
	}
	if !strings.HasSuffix(c.ShortURL, "/"+c.Code) || !strings.HasPrefix(c.ShortURL, "http://localhost:") {
		t.Fatalf("short_url %q; want http://localhost:<port>/%s", c.ShortURL, c.Code)
	}
	req, _ := http.NewRequest("GET", base+"/"+c.Code, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	res, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.com/from-the-binary" {
		t.Fatalf("redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := noFollow.Get(base + "/api/v1/links/" + c.Code)
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ Clicks int }
		_ = json.NewDecoder(res.Body).Decode(&info)
		res.Body.Close()
		if info.Clicks == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("click not counted after 2 minutes (clicks %d)\n%s", info.Clicks, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBinaryMemory builds the command, runs it with no servers, uses it
// over HTTP and stops it with SIGTERM.
func TestBinaryMemory(t *testing.T) {
	p := startBinary(t, build(t))
	exercise(t, p)
	p.stop(t)
}

// TestBinaryReal runs the command with -backend=real on the test servers;
// it creates its tables, reuses the test's keyspace and topic (creation is
// idempotent) and stops cleanly on SIGTERM.
func TestBinaryReal(t *testing.T) {
	t.Cleanup(func() {
		if tr, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
			tr.CloseIdleConnections()
		}
	})
	my := testenv.MySQL(t)
	rd := testenv.Redis(t)
	cs := testenv.Cassandra(t)
	kf := testenv.Kafka(t)
	topic := kf.Topic(3)
	p := startBinary(t, build(t), "-backend", "real",
		"-mysql-dsn", my.DSN,
		"-redis-addr", rd.Addr, "-redis-prefix", rd.Key("link")+":",
		"-cassandra-hosts", strings.Join(cs.Hosts, ","), "-cassandra-keyspace", cs.Keyspace,
		"-kafka-brokers", strings.Join(kf.Brokers, ","), "-kafka-topic", topic, "-kafka-group", topic+"-counter",
		"-code-key", fmt.Sprintf("test-%d", time.Now().UnixNano()))
	exercise(t, p)
	p.stop(t)
}
