package rides_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestMapInChromium loads the live map in headless Chromium and reads the
// DOM after the page's script ran (--dump-dom with a virtual time budget):
// the SVG shows a circle for every driver that pinged, and none for a
// driver that connected without pinging.
func TestMapInChromium(t *testing.T) {
	bin := testenv.Chromium(t)
	e := start(t, memoryStack, rides.Config{})
	pinged := []string{"map-a", "map-b", "map-c", "map-d"}
	for i, id := range pinged {
		e.connect(id).ping(pickLat+float64(i)*0.003, pickLng+float64(i)*0.002)
	}
	e.connect("map-silent")
	// One driver on a trip is drawn as busy.
	tr := e.book("map-rider", true)
	e.tripIn(tr.ID, "accepted")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(testenv.ChromiumArgs(t.TempDir()), "--dump-dom", "--virtual-time-budget=10000",
		e.base+"/map?radius=2000")
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, `<svg id="map"`) {
		t.Fatalf("no SVG in the DOM:\n%s", dom)
	}
	for _, id := range pinged {
		if !strings.Contains(dom, `data-driver="`+id+`"`) {
			t.Errorf("driver %s not drawn", id)
		}
	}
	if strings.Contains(dom, `data-driver="map-silent"`) {
		t.Errorf("a driver that never pinged is drawn")
	}
	if n := strings.Count(dom, `class="driver busy"`); n != 1 {
		t.Errorf("busy drivers drawn: %d; want 1", n)
	}
	if n := len(regexp.MustCompile(`<polygon class="cell"`).FindAllString(dom, -1)); n < 1 {
		t.Errorf("grid cells drawn: %d; want at least 1", n)
	}
	if !strings.Contains(dom, `data-drivers="4"`) || !strings.Contains(dom, "4 drivers") {
		t.Errorf("status: want 4 drivers in the DOM:\n%s", dom)
	}
}
