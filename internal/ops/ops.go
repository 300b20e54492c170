// Package ops is the operability convention shared by every example program:
// GET /healthz answers whether the process and its dependencies are fine,
// GET /metrics serves Prometheus metrics, fed from the blocks' Stats()
// snapshots and from an HTTP middleware, and logs are structured with
// log/slog. The blocks themselves stay free of metrics libraries: an example
// registers a function that returns a block's counters and ops turns them
// into Prometheus series at scrape time.
package ops

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one dependency works; nil means healthy.
type Check func(ctx context.Context) error

// Ops holds an example's registry, health checks and logger. It is safe for
// concurrent use.
type Ops struct {
	// Logger is the example's structured logger (JSON on standard error
	// unless replaced).
	Logger   *slog.Logger
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu     sync.Mutex
	checks map[string]Check
}

// New returns the operability kit of the program called service: a fresh
// Prometheus registry with Go and process collectors and HTTP metrics, and a
// JSON logger.
func New(service string) *Ops {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := &Ops{
		Logger:   slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", service),
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		checks: map[string]Check{},
	}
	reg.MustRegister(o.requests, o.latency)
	return o
}

// Registry returns the Prometheus registry, for metrics of the example's own.
func (o *Ops) Registry() *prometheus.Registry { return o.registry }

// AddCheck registers a named health check run by /healthz.
func (o *Ops) AddCheck(name string, c Check) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checks[name] = c
}

// AddChecks registers every check of checks under its name. It does
// nothing on a nil *Ops, so that a program without ops may pass its stack's
// checks all the same.
func (o *Ops) AddChecks(checks map[string]Check) {
	if o == nil {
		return
	}
	for name, c := range checks {
		o.AddCheck(name, c)
	}
}

// AddStats exports a block's counters: at each scrape, stats is called and
// each entry becomes the series <prefix>_<key>. Keys named in counters are
// exported as counters (monotonic totals), the others as gauges.
func (o *Ops) AddStats(prefix, help string, stats func() map[string]float64, counters ...string) {
	o.registry.MustRegister(&statsCollector{prefix: prefix, help: help, stats: stats, counters: toSet(counters)})
}

// Handle registers h on mux under pattern, wrapped to count requests and
// measure latency under the route label pattern.
func (o *Ops) Handle(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.Handle(pattern, o.Instrument(pattern, h))
}

// Instrument wraps h so that its requests are counted and timed under route.
func (o *Ops) Instrument(route string, h http.Handler) http.Handler {
	obs := o.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		obs.Observe(time.Since(start).Seconds())
		o.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

// Register adds GET /healthz and GET /metrics to mux.
func (o *Ops) Register(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", o.healthz)
}

func (o *Ops) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	o.mu.Lock()
	names := make([]string, 0, len(o.checks))
	for n := range o.checks {
		names = append(names, n)
	}
	checks := make(map[string]Check, len(o.checks))
	for n, c := range o.checks {
		checks[n] = c
	}
	o.mu.Unlock()
	sort.Strings(names)
	status, code := map[string]string{}, http.StatusOK
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			status[n] = err.Error()
			code = http.StatusServiceUnavailable
		} else {
			status[n] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": code == http.StatusOK, "checks": status})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type statsCollector struct {
	prefix, help string
	stats        func() map[string]float64
	counters     map[string]bool
}

func (c *statsCollector) Describe(chan<- *prometheus.Desc) {} // unchecked collector: keys may vary

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.stats() {
		vt := prometheus.GaugeValue
		if c.counters[k] {
			vt = prometheus.CounterValue
		}
		d := prometheus.NewDesc(c.prefix+"_"+k, c.help+" ("+k+")", nil, nil)
		ch <- prometheus.MustNewConstMetric(d, vt, v)
	}
}

func toSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}
