// Package api is gridmap's HTTP interface on Echo v4: middleware, the one error handler
// that turns domain errors into JSON bodies with the right status, metrics, and one file per
// resource. Handlers bind and validate, call the store, and return errors; they never write
// error bodies themselves.
package api

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"gridmap/api/ogc"
	"gridmap/geo/auth"
	"gridmap/geo/drawjob"
	"gridmap/geo/store"
	"gridmap/tiles"
)

// Config tunes the server.
type Config struct {
	Logger         *slog.Logger
	BodyLimit      string        // e.g. "32M"
	RequestTimeout time.Duration // per request, passed to the database through the context
	Static         fs.FS         // the web pages; nil serves none
	TileCacheBytes int64         // in-process tile cache; 0 disables it
	ImportLimit    int64         // bytes a household file may have; default 512 MiB
	Basemap        string        // optional XYZ raster URL under the default style
	SessionTTL     time.Duration // web sessions last this long; default 12 h
	TrustProxy     bool          // take the client address from X-Forwarded-For (behind a proxy only)
	LocateRate     float64       // public (anonymous) locate requests per second per address; default 30
}

// Server is the HTTP application.
type Server struct {
	e       *echo.Echo
	store   *store.Store
	log     *slog.Logger
	metrics *metrics
	tiles   *tiles.Service
	glyphs  *tiles.Glyphs
	basemap string
	locate  *Locator
	draws   *drawjob.Registry
	closers []func()

	importLimit int64
	rules       ruleTable
	publicLimit *auth.Limiter
	tokens      *tokenCache
}

// New wires the middleware and routes around the store. It panics when a route has no
// access rule (a programming error that must not reach a listener).
func New(st *store.Store, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "32M"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.ImportLimit == 0 {
		cfg.ImportLimit = defaultImportLimit
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LocateRate == 0 {
		cfg.LocateRate = 30
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address keys the rate limits: never from a header a client can forge,
	// unless the operator says a proxy sets it.
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s := &Server{e: e, store: st, log: cfg.Logger, metrics: newMetrics(), basemap: cfg.Basemap,
		locate: newLocator(st, cfg.Logger), importLimit: cfg.ImportLimit,
		rules:       ruleTable{rules: accessRules(), prefixes: prefixRules()},
		publicLimit: auth.NewLimiter(cfg.LocateRate, int(2*cfg.LocateRate), 100000), tokens: newTokenCache()}
	acc, err := newAccounts(st, cfg, s.tokens)
	if err != nil {
		panic(fmt.Sprintf("api: accounts: %v", err))
	}
	// Tile queries are few, fixed and hot: a pool of their own keeps one generic plan per
	// statement instead of re-planning each tile (planning costs ~10 ms, running ~0.4 ms).
	tilePool, err := st.NewPool(context.Background(), map[string]string{"plan_cache_mode": "force_generic_plan"})
	if err != nil {
		cfg.Logger.Warn("tile pool: using the main pool", "error", err)
		tilePool = st.Pool()
	} else {
		s.closers = append(s.closers, tilePool.Close)
	}
	s.tiles = tiles.New(tilePool, tiles.Options{CacheBytes: cfg.TileCacheBytes})
	s.glyphs = tiles.NewGlyphs(tiles.GlyphOptions{Logger: cfg.Logger}) // fonts: $GRIDMAP_FONTS or Debian's
	e.HTTPErrorHandler = s.handleError
	s.draws = drawjob.NewRegistry(st, drawjob.Options{Logger: cfg.Logger})
	s.closers = append(s.closers, s.draws.Close)

	e.Pre(headAsGet)
	e.Use(middleware.RequestID())
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError:   true, // the error handler runs first, so the status logged is the one sent
		LogLatency:    true,
		LogMethod:     true,
		LogURI:        true,
		LogRoutePath:  true,
		LogRequestID:  true,
		LogStatus:     true,
		LogError:      true,
		LogRemoteIP:   true,
		LogValuesFunc: s.logRequest,
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	// Long-running routes: imports read up to cfg.ImportLimit themselves, exports and event
	// streams may outlast the request timeout.
	long := func(c echo.Context) bool {
		switch c.Path() {
		case "/api/v1/import/households", "/api/v1/export/:what", "/api/v1/draw/:id/events":
			return true
		}
		return false
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: cfg.BodyLimit,
		Skipper: func(c echo.Context) bool { return c.Path() == "/api/v1/import/households" }}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		// Tiles are stored gzipped already; metrics are small and scraped often.
		Skipper: func(c echo.Context) bool {
			return c.Path() == "/metrics" || strings.HasPrefix(c.Path(), "/tiles/")
		},
	}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.RequestTimeout, Skipper: long}))
	e.Use(s.guard) // authentication and authorisation: the rules table in rules.go

	e.GET("/health", s.health)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", s.getOpenAPI)
	v1.POST("/login", acc.login)
	v1.POST("/logout", acc.logout)
	v1.GET("/me", acc.me)
	v1.GET("/users", acc.listUsers)
	v1.POST("/users", acc.createUser)
	v1.PATCH("/users/:username", acc.updateUser)
	v1.POST("/users/:username/grants", acc.grant)
	v1.DELETE("/users/:username/grants/:code", acc.revoke)
	v1.GET("/tokens", acc.listTokens)
	v1.POST("/tokens", acc.createToken)
	v1.DELETE("/tokens/:id", acc.revokeToken)
	v1.GET("/audit", acc.listAudit)
	v1.GET("/units", s.listUnits)
	v1.GET("/units/:code", s.getUnit)
	v1.GET("/grids", s.listGrids)
	v1.POST("/grids", s.createGrid)
	v1.GET("/grids/:code", s.getGrid)
	v1.PUT("/grids/:code", s.replaceGrid)
	v1.DELETE("/grids/:code", s.retireGrid)
	v1.GET("/grids/:code/history", s.gridHistory)
	org := newOrgHandlers(st)
	v1.POST("/people", org.createPerson)
	v1.GET("/people", org.listPeople)
	v1.GET("/people/:id", org.getPerson)
	v1.PUT("/people/:id", org.updatePerson)
	v1.DELETE("/people/:id", org.deletePerson)
	v1.GET("/grids/:code/team", org.getTeam)
	v1.PUT("/grids/:code/team", org.replaceTeam)
	v1.GET("/grids/:code/branch", org.getBranch)
	v1.POST("/grids/:code/branch", org.createBranch)
	v1.PUT("/grids/:code/branch", org.updateBranch)
	v1.DELETE("/grids/:code/branch", org.endBranch)
	v1.GET("/branches/:id/groups", org.listGroups)
	v1.POST("/branches/:id/groups", org.createGroup)
	v1.GET("/groups/:id", org.getGroup)
	v1.PUT("/groups/:id", org.updateGroup)
	v1.DELETE("/groups/:id", org.deleteGroup)
	v1.POST("/central-households", org.createCentral)
	v1.GET("/central-households/:id", org.getCentral)
	v1.DELETE("/central-households/:id", org.deleteCentral)
	v1.GET("/links", org.listLinks)
	v1.PUT("/links/:kind", org.replaceLinks)
	v1.GET("/export/:what", s.export)
	v1.POST("/import/households", s.importHouseholds)
	v1.GET("/locate", s.locate.get)
	v1.POST("/locate", s.locate.post)
	v1.POST("/draw", s.postDraw)
	v1.GET("/draw/:id", s.getDraw)
	v1.GET("/draw/:id/events", s.drawEvents)
	v1.POST("/draw/:id/apply", s.applyDraw)
	v1.POST("/assign", s.postAssign)
	v1.GET("/coverage", s.getCoverage)
	v1.GET("/coverage/problems", s.getCoverageProblems)
	e.GET("/tiles/:layers/:z/:x/:file", s.getTile)
	e.GET("/tiles/:file", s.getTileJSON)
	e.GET("/styles/default.json", s.getStyle)
	e.GET("/fonts/:fontstack/:range", s.getGlyphs)
	ogc.Register(e.Group("/ogc"), st.Pool(), ogc.Options{Logger: cfg.Logger, Scope: listScope})
	if cfg.Static != nil {
		e.GET("/", echo.WrapHandler(http.FileServerFS(cfg.Static)))
	}
	s.checkRules()
	return s
}

// checkRules panics when a registered route has no access rule: the guard would refuse it
// with 500 at every request, so it is better found at startup (and by the tests).
func (s *Server) checkRules() {
	if missing := s.rules.missing(s.e.Routes()); len(missing) > 0 {
		panic("api: routes without an access rule (add them to accessRules in api/rules.go): " + strings.Join(missing, ", "))
	}
}

// MissingRules lists registered routes without an access rule (none after New; routes
// added later, by tests say, show up here).
func (s *Server) MissingRules() []string { return s.rules.missing(s.e.Routes()) }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// Echo exposes the Echo instance (to start and shut down the listener).
func (s *Server) Echo() *echo.Echo { return s.e }

func (s *Server) logRequest(c echo.Context, v middleware.RequestLoggerValues) error {
	route := v.RoutePath
	if route == "" || c.Get("unmatched") != nil {
		route = "unmatched"
	}
	s.metrics.observe(v.Method, route, v.Status, v.Latency)
	level := slog.LevelInfo
	if v.Error != nil && v.Status >= 500 {
		level = slog.LevelError
	}
	ctx := c.Request().Context()
	if !s.log.Enabled(ctx, level) {
		return nil
	}
	attrs := []slog.Attr{
		slog.String("id", v.RequestID), slog.String("method", v.Method), slog.String("uri", redactURI(v.URI)),
		slog.Int("status", v.Status), slog.Duration("latency", v.Latency), slog.String("remote", v.RemoteIP),
	}
	if level == slog.LevelError {
		attrs = append(attrs, slog.String("error", v.Error.Error()))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
	return nil
}

// redactURI hides the value of ?api_key= so tokens never reach the log.
func redactURI(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok || !strings.Contains(query, "api_key") {
		return uri
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return path + "?(unparsable query)"
	}
	if q.Has("api_key") {
		q.Set("api_key", "REDACTED")
	}
	return path + "?" + q.Encode()
}

// headAsGet routes HEAD like GET; net/http drops the body of a HEAD response itself.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			r.Method = http.MethodGet
		}
		return next(c)
	}
}

// Close releases what the server opened (its extra pools). The store stays open.
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// Tiles exposes the tile service (to start its invalidation listener).
func (s *Server) Tiles() *tiles.Service { return s.tiles }
