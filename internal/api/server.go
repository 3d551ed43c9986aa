// Package api is the HTTP API of upgrade-governor: it checks member-signed governance
// transactions and operator tokens, then starts, signals and updates the upgrade workflows,
// submits transactions as they are, and serves the index, the audit trail and health.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Limits bound what one request may cost.
type Limits struct {
	// MaxBodyBytes bounds a request body; a transaction is at most 1232 bytes, so 64 KiB is
	// generous.
	MaxBodyBytes int64
	// ReadTimeout bounds a read-only request (index, audit, status).
	ReadTimeout time.Duration
	// WriteTimeout bounds a governance request: it may wait for a transaction to confirm
	// through the workflow's update, which retries a slow node for a while.
	WriteTimeout time.Duration
	// QueryTimeout bounds a workflow query inside a read: a workflow whose worker is down
	// cannot answer, and the read then returns without the live status.
	QueryTimeout time.Duration
	// Cache bounds the read cache of the proposal routes.
	Cache CacheLimits
}

// DefaultLimits are the limits of a deployed server.
var DefaultLimits = Limits{
	MaxBodyBytes: 64 << 10,
	ReadTimeout:  15 * time.Second,
	WriteTimeout: 2 * time.Minute,
	QueryTimeout: 3 * time.Second,
	Cache:        DefaultCacheLimits,
}

// Deps are what the server talks to. The server holds no key: every transaction it submits
// was signed by members.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Temporal client.Client
	Chain    Chain
	Logger   *slog.Logger
	// Registry collects the server's metrics; nil means a fresh one.
	Registry *prometheus.Registry
	// Limits; the zero value means DefaultLimits.
	Limits Limits
}

// Server is the API: a gin engine over the dependencies.
type Server struct {
	cfg      config.Config
	store    *store.Store
	temporal client.Client
	chain    Chain
	log      *slog.Logger
	registry *prometheus.Registry
	limits   Limits
	cache    *readCache
	engine   *gin.Engine
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	if d.Store == nil || d.Temporal == nil || d.Chain == nil {
		return nil, errors.New("api: store, temporal client and chain are required")
	}
	if d.Config.ProgramID != governor.ProgramID.String() {
		return nil, fmt.Errorf("api: configured program %s, but this build vets transactions for %s",
			d.Config.ProgramID, governor.ProgramID)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		d.Registry.MustRegister(collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if d.Limits == (Limits{}) {
		d.Limits = DefaultLimits
	}
	s := &Server{
		cfg: d.Config, store: d.Store, temporal: d.Temporal, chain: d.Chain,
		log: d.Logger, registry: d.Registry, limits: d.Limits,
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	if s.cache, err = newReadCache(d.Limits.Cache, d.Registry); err != nil {
		return nil, err
	}
	if err := d.Registry.Register(newBalanceCollector(s)); err != nil {
		return nil, fmt.Errorf("register balance metrics: %w", err)
	}
	s.engine = s.routes(m)
	return s, nil
}

// Handler is the HTTP handler serving every route.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine is the gin engine, for tests that walk its routes.
func (s *Server) Engine() *gin.Engine { return s.engine }

func (s *Server) routes(m *metrics) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestContext(s.log), m.middleware(), recovery(), limitBody(s.limits.MaxBodyBytes))
	e.NoRoute(func(c *gin.Context) {
		respond(c, newError(http.StatusNotFound, CodeRouteNotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		respond(c, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	read := e.Group("", timeout(s.limits.ReadTimeout), strictQuery())
	read.GET("/proposals", s.listProposals)
	read.GET("/proposals/:id", s.getProposal)
	read.GET("/migration/:id", s.getMigration)
	read.GET("/audit", s.listAudit)
	read.GET("/multisig/:address", s.getMultisig)
	read.GET("/multisigs", s.listServed)
	read.GET("/clock", s.clock)
	// Public and cacheable: a program's users watch upgrades coming (served multisigs only).
	read.GET("/feeds/multisigs/:feed", s.multisigFeed)
	read.GET("/feeds/programs/:feed", s.programFeed)
	// Webhook subscriptions: operator routes.
	read.GET("/webhooks", s.listWebhooks)
	read.GET("/webhooks/:id", s.getWebhook)
	read.GET("/webhooks/:id/deliveries", s.listDeliveries)

	write := e.Group("", timeout(s.limits.WriteTimeout), requireJSON(), s.cache.forgetOnWrite())
	write.POST("/proposals", s.createProposal)
	write.POST("/proposals/:id/approve", s.approveProposal)
	write.POST("/proposals/:id/cancel", s.cancelProposal)
	write.POST("/proposals/:id/execute", s.executeProposal)
	write.POST("/migration/start", s.startMigration)
	write.POST("/system/pause", s.pauseSystem)
	write.POST("/system/resume", s.resumeSystem)
	write.POST("/multisigs", s.serveMultisig)
	write.DELETE("/multisigs/:address", s.unserveMultisig)
	write.POST("/webhooks", s.createWebhook)
	write.PATCH("/webhooks/:id", s.updateWebhook)
	write.DELETE("/webhooks/:id", s.deleteWebhook)
	write.POST("/webhooks/:id/redeliver", s.redeliverWebhook)

	build := e.Group("/tx", timeout(s.limits.ReadTimeout), requireJSON())
	build.POST("/propose", s.buildPropose)
	build.POST("/propose-config", s.buildProposeConfig)
	build.POST("/approve", s.buildApprove)
	build.POST("/cancel", s.buildCancel)
	build.POST("/execute", s.buildExecute)
	build.POST("/pause", s.buildPause)
	build.POST("/resume", s.buildResume)
	s.mountWeb(e)
	return e
}
