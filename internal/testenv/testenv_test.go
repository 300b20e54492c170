package testenv

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestSkipPolicy runs a probe test in a child process with each service
// variable unset and checks the policy: a skip that names the variable
// normally, a failure under SYSBLOCKS_INTEGRATION=require.
func TestSkipPolicy(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		return // running as a child of this very test
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{EnvRedis, EnvMySQL, EnvKafka, EnvCassandra, EnvTURN, EnvChromium} {
		for _, require := range []bool{false, true} {
			cmd := exec.Command(exe, "-test.run", "^TestChildProbe$", "-test.v")
			cmd.Env = append(withoutVar(os.Environ(), env, EnvIntegration), "TESTENV_CHILD="+env)
			if require {
				cmd.Env = append(cmd.Env, EnvIntegration+"=require")
			}
			out, err := cmd.CombinedOutput()
			s := string(out)
			switch {
			case require && (err == nil || !strings.Contains(s, "--- FAIL") || !strings.Contains(s, "set "+env+" to run")):
				t.Errorf("%s unset with require: err=%v; want a failure naming the variable; output:\n%s", env, err, s)
			case !require && (err != nil || !strings.Contains(s, "--- SKIP") || !strings.Contains(s, "set "+env+" to run")):
				t.Errorf("%s unset: err=%v; want a skip naming the variable; output:\n%s", env, err, s)
			}
		}
	}
}

// TestChildProbe is the child side of TestSkipPolicy.
func TestChildProbe(t *testing.T) {
	switch os.Getenv("TESTENV_CHILD") {
	case "":
		return // only meaningful as a child of TestSkipPolicy
	case EnvRedis:
		Redis(t)
	case EnvMySQL:
		MySQL(t)
	case EnvKafka:
		Kafka(t)
	case EnvCassandra:
		Cassandra(t)
	case EnvTURN:
		TURN(t)
	case EnvChromium:
		Chromium(t)
	}
	t.Fatalf("helper returned although its variable is unset")
}

// TestUnreachableFails checks that a variable pointing at a dead address
// fails the test instead of skipping it.
func TestUnreachableFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		return // running as a child of this very test
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestChildProbe$", "-test.v")
	cmd.Env = append(withoutVar(os.Environ(), EnvRedis, EnvIntegration), "TESTENV_CHILD="+EnvRedis, EnvRedis+"=127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not answer") {
		t.Fatalf("dead Redis address: err=%v; want a failure saying it does not answer; output:\n%s", err, out)
	}
}

func TestName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,48}$`)
	a, b := Name(t, "sbt"), Name(t, "sbt")
	if a == b {
		t.Fatalf("Name returned %q twice", a)
	}
	if !valid.MatchString(a) || !strings.HasPrefix(a, "sbt_testname_") {
		t.Fatalf("Name = %q; want sbt_testname_<hex>, [a-z0-9_], at most 48 bytes", a)
	}
	t.Run(strings.Repeat("Very Long/Sub-Test name ", 5), func(t *testing.T) {
		if n := Name(t, "sdk"); !valid.MatchString(n) {
			t.Fatalf("Name = %q (%d bytes); want [a-z0-9_], at most 48 bytes", n, len(n))
		}
	})
}

func withoutVar(env []string, names ...string) []string {
	var out []string
outer:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue outer
			}
		}
		out = append(out, kv)
	}
	return out
}
