package api

import (
	"bufio"
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// CacheLimits bound the read cache of GET /proposals and GET /proposals/:id.
//
// The cache is only used while the server listens for index changes (store.WatchIndex, started
// by the fx module): every change to the proposals or their approvals, by any worker or replica,
// empties it, and so does every write request this server answers. What the index cannot
// announce (the chain's and the workflow's live state in a proposal's detail) is kept at most
// Live; a settled proposal (executed, cancelled or expired, its workflow closed) at most Settled.
type CacheLimits struct {
	// Live bounds the age of a detail that depends on live chain or workflow state; 0 turns
	// the cache off.
	Live time.Duration
	// Settled bounds the age of a settled proposal's detail (its chain account and closed
	// workflow no longer change; its multisig's pause flag can) and of a page of the list.
	Settled time.Duration
	// Bytes bounds the encoded answers kept; the least recently used go first.
	Bytes int
}

// DefaultCacheLimits are a deployed server's.
var DefaultCacheLimits = CacheLimits{Live: time.Second, Settled: 30 * time.Second, Bytes: 64 << 20}

type cacheEntry struct {
	key     string
	gen     uint64
	expires time.Time
	body    []byte
}

// readCache keeps encoded 200 answers by route and parameters. Entries carry the index
// generation they were computed under; a change notification bumps the generation, so an
// answer computed from data read before a change is never served after the change is known.
type readCache struct {
	limits CacheLimits
	now    func() time.Time

	mu        sync.Mutex
	gen       uint64
	listening bool
	bytes     int
	items     map[string]*list.Element
	lru       *list.List // front: most recently used

	flight  singleflight.Group
	lookups *prometheus.CounterVec
}

func newReadCache(l CacheLimits, reg prometheus.Registerer) (*readCache, error) {
	rc := &readCache{
		limits: l, now: time.Now, items: map[string]*list.Element{}, lru: list.New(),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "upgrade_governor", Subsystem: "api", Name: "read_cache_lookups_total",
			Help: "Read cache lookups by route and result (hit, miss, bypass: not listening for index changes or cache off).",
		}, []string{"route", "result"}),
	}
	if err := reg.Register(rc.lookups); err != nil {
		return nil, fmt.Errorf("register read cache metrics: %w", err)
	}
	return rc, nil
}

// Changed forgets everything: the index changed, or this server wrote.
func (rc *readCache) Changed() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.gen++
	rc.items, rc.bytes = map[string]*list.Element{}, 0
	rc.lru.Init()
}

// Listening turns the cache on while index changes are being announced, off otherwise.
func (rc *readCache) Listening(on bool, _ error) {
	rc.mu.Lock()
	rc.listening = on
	rc.mu.Unlock()
	rc.Changed()
}

// lookup returns a fresh entry's body, or the generation a computed answer is to be stored
// under; ok=false with usable=false means the cache is not to be used.
func (rc *readCache) lookup(key string) (body []byte, gen uint64, usable bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.listening || rc.limits.Live <= 0 {
		return nil, 0, false
	}
	if el, ok := rc.items[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.gen == rc.gen && rc.now().Before(e.expires) {
			rc.lru.MoveToFront(el)
			return e.body, rc.gen, true
		}
		rc.remove(el)
	}
	return nil, rc.gen, true
}

func (rc *readCache) store(key string, gen uint64, ttl time.Duration, body []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if gen != rc.gen || !rc.listening || len(body) > rc.limits.Bytes/4 {
		return // computed from data a known change has made stale, or too big to keep
	}
	if el, ok := rc.items[key]; ok {
		rc.remove(el)
	}
	rc.items[key] = rc.lru.PushFront(&cacheEntry{key: key, gen: gen, expires: rc.now().Add(ttl), body: body})
	rc.bytes += len(body)
	for rc.bytes > rc.limits.Bytes {
		rc.remove(rc.lru.Back())
	}
}

func (rc *readCache) remove(el *list.Element) {
	e := rc.lru.Remove(el).(*cacheEntry)
	delete(rc.items, e.key)
	rc.bytes -= len(e.body)
}

// serve answers c from the cache, or computes the answer once for every request waiting on the
// same key. compute returns the value to encode and how long it may be kept.
func (rc *readCache) serve(c *gin.Context, route, key string, timeout time.Duration,
	compute func(ctx context.Context) (any, time.Duration, error)) {
	body, gen, usable := rc.lookup(key)
	switch {
	case !usable:
		rc.lookups.WithLabelValues(route, "bypass").Inc()
		v, _, err := compute(c.Request.Context())
		if err != nil {
			respond(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
		return
	case body != nil:
		rc.lookups.WithLabelValues(route, "hit").Inc()
		c.Data(http.StatusOK, "application/json; charset=utf-8", body)
		return
	}
	rc.lookups.WithLabelValues(route, "miss").Inc()
	out, err, _ := rc.flight.Do(fmt.Sprintf("%d|%s", gen, key), func() (any, error) {
		// Shared by every request waiting on this key: not bound to the first one's client.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), timeout)
		defer cancel()
		v, ttl, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", route, err)
		}
		rc.store(key, gen, ttl, b)
		return b, nil
	})
	if err != nil {
		respond(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", out.([]byte))
}

// forgetOnWrite empties the cache after every request of a write route: what this server wrote
// is then read back by its next read, whatever the index notification's delay.
func (rc *readCache) forgetOnWrite() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		rc.Changed()
	}
}

// WatchIndex keeps the read cache in step with the index until ctx ends; the cache is used only
// while it runs and its connection is up.
func (s *Server) WatchIndex(ctx context.Context) error {
	return s.store.WatchIndex(ctx, store.IndexWatch{
		Changed: s.cache.Changed,
		Listening: func(on bool, err error) {
			if !on {
				s.log.Warn("read cache off: not listening for index changes", "error", err)
			} else {
				s.log.Info("read cache on: listening for index changes")
			}
			s.cache.Listening(on, err)
		},
	}, 10*time.Second)
}

// CacheLookups reads the read cache's lookup counts of a route (keys hit, miss, bypass) from a
// /metrics answer in Prometheus' text format.
func CacheLookups(metrics io.Reader, route string) (map[string]int, error) {
	out := map[string]int{}
	sc := bufio.NewScanner(metrics)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "upgrade_governor_api_read_cache_lookups_total{") ||
			!strings.Contains(line, fmt.Sprintf("route=%q", route)) {
			continue
		}
		for _, result := range []string{"hit", "miss", "bypass"} {
			if strings.Contains(line, fmt.Sprintf("result=%q", result)) {
				n, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
				if err != nil {
					return nil, fmt.Errorf("metrics line %q: %w", line, err)
				}
				out[result] = int(n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}
