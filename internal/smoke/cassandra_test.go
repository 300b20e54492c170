package smoke

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestCassandraLightweightTransaction creates a table, writes and reads a
// row, and checks that INSERT ... IF NOT EXISTS applies once and then reports
// the existing row (a Paxos round on the real server).
func TestCassandraLightweightTransaction(t *testing.T) {
	c := testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := c.Session
	if err := s.Query(`CREATE TABLE links (code text PRIMARY KEY, target text, created timestamp)`).ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.Query(`INSERT INTO links (code, target, created) VALUES (?, ?, ?)`, "a", "https://a.example", now).ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	var target string
	var created time.Time
	if err := s.Query(`SELECT target, created FROM links WHERE code = ?`, "a").ScanContext(ctx, &target, &created); err != nil {
		t.Fatal(err)
	}
	if target != "https://a.example" || !created.Equal(now) {
		t.Fatalf("read back (%q, %v); want (https://a.example, %v)", target, created, now)
	}
	lwt := func(tgt string) (bool, string) {
		m := map[string]any{}
		applied, err := s.Query(`INSERT INTO links (code, target) VALUES (?, ?) IF NOT EXISTS`, "b", tgt).MapScanCASContext(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := m["target"].(string)
		return applied, got
	}
	if applied, _ := lwt("https://first.example"); !applied {
		t.Fatalf("first IF NOT EXISTS was not applied")
	}
	if applied, existing := lwt("https://second.example"); applied || existing != "https://first.example" {
		t.Fatalf("second IF NOT EXISTS: applied=%v existing=%q; want false and the first target", applied, existing)
	}
}
