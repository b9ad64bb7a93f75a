package api_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"gridmap/tiles"
)

// glyphStack reads the one fontstack of a glyphs protobuf: its name, range and glyph ids.
func glyphStack(t *testing.T, b []byte) (name, rng string, ids map[uint64]bool) {
	t.Helper()
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		t.Fatalf("glyphs: first field %d type %d", num, typ)
	}
	stack, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		t.Fatalf("glyphs: want exactly one fontstack (%d of %d bytes)", n+m, len(b))
	}
	ids = map[uint64]bool{}
	for len(stack) > 0 {
		num, typ, n := protowire.ConsumeTag(stack)
		if n < 0 || typ != protowire.BytesType {
			t.Fatalf("fontstack: field %d type %d", num, typ)
		}
		v, m := protowire.ConsumeBytes(stack[n:])
		if m < 0 {
			t.Fatal("fontstack: truncated")
		}
		switch num {
		case 1:
			name = string(v)
		case 2:
			rng = string(v)
		case 3:
			if tnum, _, k := protowire.ConsumeTag(v); k > 0 && tnum == 1 {
				id, _ := protowire.ConsumeVarint(v[k:])
				ids[id] = true
			}
		}
		stack = stack[n+m:]
	}
	return name, rng, ids
}

func TestGlyphs(t *testing.T) {
	fonts := tiles.FontPaths(os.Getenv(tiles.FontsEnv))
	if _, err := os.Stat(fonts[0]); err != nil {
		t.Skipf("font %s not installed (scripts/install-deps.sh)", fonts[0])
	}
	ts, _, _ := newServer(t, 0)

	// The style's own glyphs URL answers, for the fontstack its label layer names.
	style := decode[struct{ Glyphs string }](t, do(t, "GET", ts.URL+"/styles/default.json", nil))
	u := strings.NewReplacer("{fontstack}", url.PathEscape("Noto Sans Regular"), "{range}", "0-255").Replace(style.Glyphs)
	r := do(t, "GET", u, nil) // the client asks for gzip and unpacks it
	if r.status != 200 {
		t.Fatalf("%s: %d %s", u, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-protobuf" {
		t.Fatalf("content type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=86400" {
		t.Fatalf("cache control %q", cc)
	}
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("etag %q is not strong", etag)
	}
	name, rng, ids := glyphStack(t, r.body)
	if name != "Noto Sans Regular" || rng != "0-255" || !ids['A'] || !ids[' '] {
		t.Fatalf("fontstack %q range %q, %d glyphs", name, rng, len(ids))
	}

	// Revalidation; and a second fontstack of the same range has its own name and ETag.
	if r := request(t, "GET", u, nil, map[string]string{"If-None-Match": etag}); r.status != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	r2 := do(t, "GET", ts.URL+"/fonts/Open%20Sans%20Bold,Arial%20Unicode%20MS%20Bold/0-255.pbf", nil)
	if r2.status != 200 || r2.header.Get("ETag") == etag {
		t.Fatalf("second fontstack: %d, etag %s", r2.status, r2.header.Get("ETag"))
	}
	if name, _, _ := glyphStack(t, r2.body); name != "Open Sans Bold,Arial Unicode MS Bold" {
		t.Fatalf("second fontstack named %q", name)
	}

	for _, bad := range []string{"0-256", "1-256", "256-255", "65536-65791", "a-b"} {
		wantError(t, do(t, "GET", ts.URL+"/fonts/Noto%20Sans%20Regular/"+bad+".pbf", nil), 400, "invalid_parameter", "range")
	}
	wantError(t, do(t, "GET", ts.URL+"/fonts/Noto%20Sans%20Regular/0-255.json", nil), 404, "not_found", "")
}

func TestGlyphsNoFont(t *testing.T) {
	t.Setenv(tiles.FontsEnv, filepath.Join(t.TempDir(), "absent.ttf"))
	ts, _, _ := newServer(t, 0)
	r := do(t, "GET", ts.URL+"/fonts/Noto%20Sans%20Regular/0-255.pbf", nil)
	wantError(t, r, http.StatusServiceUnavailable, "fonts_unavailable", tiles.FontsEnv)
	if !strings.Contains(string(r.body), tiles.FontsEnv) || strings.Contains(string(r.body), "absent.ttf") {
		t.Fatalf("body %s", r.body)
	}
}
