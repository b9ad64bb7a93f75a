// Package locate is gridmap's in-memory point-in-polygon index: "which grid
// is this point in?" answered in well under a microsecond.
//
// An Index is built once from a slice of Entry values (an ID and a lon/lat
// WGS84 orb.MultiPolygon) and is immutable afterwards, so any number of
// goroutines may query it without locking. It has two layers:
//
//   - a packed static R-tree (Hilbert-sorted, flat arrays, no per-node
//     pointers) over the bounding box of every polygon;
//   - an exact point-in-polygon test per candidate polygon. Polygons with
//     many vertices (32 edges or more) carry two helpers: a raster of their
//     box whose cells are marked inside, outside or "an edge passes here",
//     which answers most points with one memory read; and an edge index —
//     the polygon's y range cut into bands, each listing the edges that
//     overlap it — so the remaining points read only the handful of edges
//     at their latitude instead of every edge.
//
// # Semantics
//
// The answers match PostGIS ST_Intersects(polygon, point): a point strictly
// inside a polygon, or exactly on its boundary (an edge or a vertex of the
// exterior ring or of a hole), matches; a point strictly inside a hole does
// not. The boundary test is exact: the orientation predicate is evaluated on
// the given float64 coordinates with an adaptive exact fallback (no epsilon),
// so a point exactly on an edge shared by two grids matches both, and a
// point a single ulp off the edge matches exactly one of them.
//
// Lookup reports every matching entry in ascending ID order. The fixed
// tie-break for a single answer (Primary) is the lowest ID.
//
// Nearest measures the distance from a point to the nearest polygon's
// boundary in metres with a local equirectangular approximation at the
// query point's latitude (x scaled by cos(lat) on a sphere of radius
// 6,371,008.8 m). Within a few kilometres this is accurate to well under
// 0.1%; it does not wrap across the antimeridian.
//
// A Set wraps an Index for freshness: Replace, Upsert and Remove build a new
// Index copy-on-write (reusing the prepared polygons of unchanged entries)
// and publish it with an atomic pointer swap, so readers never lock or wait.
package locate
