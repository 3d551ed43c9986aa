package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Keys of values kept on the gin context.
const (
	ctxLogger    = "ug.logger"
	ctxRequestID = "ug.request_id"
	ctxErrorCode = "ug.error_code"
	ctxToken     = "ug.token"
)

// HeaderRequestID carries the request's ID in and out.
const HeaderRequestID = "X-Request-ID"

// An incoming request ID is kept only when it is short and plain, so it is safe in logs.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestContext gives each request an ID (the caller's X-Request-ID when usable), a logger
// carrying it, and logs the request when it ends.
func requestContext(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Header(HeaderRequestID, id)
		l := base.With("request_id", id)
		c.Set(ctxLogger, l)
		start := time.Now()
		c.Next()
		attrs := []any{
			"method", c.Request.Method, "route", routeOf(c), "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds(),
			"bytes_in", c.Request.ContentLength, "client", c.ClientIP(),
		}
		if code := c.GetString(ctxErrorCode); code != "" {
			attrs = append(attrs, "error_code", code)
		}
		l.Info("request", attrs...)
	}
}

// logger is the request's logger (slog.Default outside a request).
func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}

// routeOf is the matched route template ("/proposals/:id"), which keeps metric labels few.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// metrics counts requests and their latency by route, method and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "upgrade_governor", Subsystem: "api", Name: "requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "upgrade_governor", Subsystem: "api", Name: "request_duration_seconds",
			Help: "HTTP request latency by route template, method and status code.",
			// Governance writes wait for the chain: buckets reach two minutes.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"route", "method", "status"}),
	}
	for _, col := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register API metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		labels := prometheus.Labels{
			"route": routeOf(c), "method": c.Request.Method, "status": strconv.Itoa(c.Writer.Status()),
		}
		m.requests.With(labels).Inc()
		m.latency.With(labels).Observe(time.Since(start).Seconds())
	}
}

// limitBody refuses bodies over max bytes: at once when Content-Length says so, else when
// the reader passes the limit (the JSON decoder then fails with http.MaxBytesError).
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			respond(c, &http.MaxBytesError{Limit: max})
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// requireJSON refuses request bodies that do not say they are JSON.
func requireJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength == 0 && c.GetHeader("Content-Type") == "" {
			c.Next() // no body at all: the handler decides whether it needs one
			return
		}
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || mt != "application/json" {
			respond(c, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "",
				"send the body as application/json"))
			return
		}
		c.Next()
	}
}

// strictQuery refuses a query string that Go's parser would drop parts of (a ';' separator,
// a bad %-escape): the handler would otherwise answer without the filter the caller asked
// for. The field named is the key of the first part that does not parse, when it has one.
func strictQuery() gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := c.Request.URL.RawQuery
		_, err := url.ParseQuery(raw)
		if err == nil {
			c.Next()
			return
		}
		field := "query"
		for _, part := range strings.Split(raw, "&") {
			if _, perr := url.ParseQuery(part); perr != nil {
				k, _, _ := strings.Cut(part, "=")
				if key, kerr := url.QueryUnescape(k); kerr == nil && key != "" && !strings.Contains(key, ";") {
					field = key
				}
				break
			}
		}
		respond(c, invalidField(field, "the query string does not parse (%v): separate parameters with & and escape ; as %%3B", err))
	}
}

// timeout bounds the work a request may cause; handlers pass c.Request.Context() on.
func timeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// recovery turns a panic into a logged 500 with the usual error body.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logger(c).Error("panic in handler", "panic", fmt.Sprint(r))
				respond(c, fmt.Errorf("panic: %v", r))
			}
		}()
		c.Next()
	}
}
