// Package ingest reads household files — CSV with a header row, or a GeoJSON
// FeatureCollection of Points — into validated rows, without a database.
//
// A Parser streams: CSV record by record, GeoJSON feature by feature, so a file
// of a million households is never held as a tree. The members of a GeoJSON
// FeatureCollection go through encoding/json's token API; its features through
// a hand-written decoder that takes the usual feature shape itself and leaves
// anything unusual to encoding/json, with the same rows, reports and errors
// (geojson_fast.go). Text is UTF-8 with or without a byte-order mark, or GBK (declared,
// or detected when the start of the file is not valid UTF-8). Coordinates are
// converted to WGS84 from the CRS the caller names (wgs84, gcj02, bd09) with
// gridmap/geo/coord.
//
// Two kinds of trouble are kept apart. A malformed file (broken CSV quoting,
// invalid JSON, a missing column, a foreign GeoJSON crs) stops the parser with
// a *geo.InputError of code "invalid_file" naming the field. A bad row (a bad
// number, a coordinate out of range, a duplicate external id, a non-Point
// geometry) is left out and recorded in the parser's Report, which lists the
// first MaxProblems bad rows and counts the rest; the caller decides whether
// the file as a whole is rejected.
package ingest
