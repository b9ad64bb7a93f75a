package main

import (
	"flag"
	"io"
	"os"
	"strconv"
)

// config is what the environment says; flags override it per command.
type config struct {
	DatabaseURL string // empty: the embedded cluster
	Addr        string
	DataDir     string
	LogLevel    string
	TileCacheMB int64  // in-process tile cache; 0 turns it off
	Basemap     string // optional XYZ raster URL under the default map style
	TrustProxy  bool   // client addresses (rate limits) from X-Forwarded-For: only behind a proxy
}

func configFromEnv() config {
	return config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Addr:        envOr("GRIDMAP_ADDR", ":8080"),
		DataDir:     envOr("GRIDMAP_DATA", "./var"),
		LogLevel:    envOr("GRIDMAP_LOG", "info"),
		TileCacheMB: envInt("GRIDMAP_TILE_CACHE_MB", 256),
		Basemap:     os.Getenv("GRIDMAP_BASEMAP"),
		TrustProxy:  os.Getenv("GRIDMAP_TRUST_PROXY") == "1",
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newFlags returns a flag set for a command that reports to stderr and never exits.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gridmap "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func envInt(key string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(key), 10, 64); err == nil {
		return v
	}
	return def
}
