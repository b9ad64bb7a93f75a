// Package coord converts points between the three geographic coordinate
// systems that Chinese map clients send: WGS84 (GNSS, browsers, GeoJSON;
// CGCS2000 is treated as equal to it), GCJ-02 (the "Mars" datum used by
// AMap, Tencent and WeChat maps) and BD-09 (Baidu maps).
//
// WGS84 → GCJ-02 is the published closed form (Krasovsky ellipsoid,
// a = 6378245 m, e² = 0.00669342162296594323, a polynomial-and-sine offset
// centred on 105°E 35°N). It has no closed-form inverse: the common
// "one-step" inverse, which subtracts the offset evaluated at the GCJ-02
// point, is off by metres (3.2 m at worst on a 0.25° grid over China).
// GCJ02ToWGS84 instead solves forward(w) = g by fixed-point iteration
// until the residual is below 1e-10° (about 0.01 mm), so a round trip is
// exact to well under 1 mm.
//
// GCJ-02 ↔ BD-09 are the published x_pi = π·3000/180 formulas. The
// published BD-09 → GCJ-02 formula is itself only approximate (off by up
// to about 0.2 m); BD09ToGCJ02 refines it by the same fixed-point iteration
// against the forward formula.
//
// Only points inside China are shifted by GCJ-02; see InChina for the
// rough bounding box used. The BD-09 step is applied everywhere, as Baidu's
// own formulas do.
//
// Points are orb.Point values, [lon, lat] in degrees. Projection returns an
// orb.Projection, so whole geometries convert with orb/project.Geometry.
package coord
