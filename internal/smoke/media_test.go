package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestFFmpegTranscode encodes a 1 s lavfi test clip with libx264 and AAC and
// checks with ffprobe that both streams, the size and the duration are right.
func TestFFmpegTranscode(t *testing.T) {
	f := testenv.FFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.CommandContext(ctx, f.FFmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
		"-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-shortest", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	b, err := exec.CommandContext(ctx, f.FFprobe, "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", out).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var probe struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	var got []string
	for _, s := range probe.Streams {
		got = append(got, fmt.Sprintf("%s/%s/%dx%d", s.CodecType, s.CodecName, s.Width, s.Height))
	}
	if strings.Join(got, " ") != "video/h264/320x240 audio/aac/0x0" {
		t.Fatalf("streams = %v; want h264 320x240 and aac", got)
	}
	var d float64
	if _, err := fmt.Sscan(probe.Format.Duration, &d); err != nil || d < 0.9 || d > 1.2 {
		t.Fatalf("duration = %q; want about 1 s", probe.Format.Duration)
	}
}

// TestChromiumLoadsPage serves a page whose script fetches a value from the
// same Go test server and writes it into the DOM; headless Chromium must
// print the resulting DOM, which proves it ran the page's JavaScript against
// our server.
func TestChromiumLoadsPage(t *testing.T) {
	bin := testenv.Chromium(t)
	var apiHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="out">waiting</p>
<script>fetch('/api').then(r => r.text()).then(t => { document.getElementById('out').textContent = 'got:' + t; });</script>`)
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		apiHits.Add(1)
		fmt.Fprint(w, "sysblocks-42")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(testenv.ChromiumArgs(t.TempDir()), "--virtual-time-budget=5000", "--dump-dom", srv.URL+"/")
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if !strings.Contains(string(out), "got:sysblocks-42") {
		t.Fatalf("DOM does not show the fetched value; got:\n%s", out)
	}
	if apiHits.Load() == 0 {
		t.Fatalf("the page's script never called /api")
	}
}
