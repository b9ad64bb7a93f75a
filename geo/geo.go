// Package geo is gridmap's domain: administrative units, grids, households and the party
// organisation, the rules they obey (statistical codes, grid codes, levels, kinds) and the
// errors that report broken rules. Geometry algorithms live in sub-packages (partition,
// assign, locate, coord) and the PostGIS store in geo/store.
package geo

import (
	"encoding/json"
	"time"
)

// Level is the level of an administrative unit.
type Level string

// The levels, from the county down. A 6-digit statistical code is a county, 9 digits a
// township or street, 12 digits a village or community.
const (
	LevelCounty    Level = "county"
	LevelTownship  Level = "township"
	LevelStreet    Level = "street"
	LevelVillage   Level = "village"
	LevelCommunity Level = "community"
)

// GridKind says what a grid covers.
type GridKind string

// Grid kinds from the seeds: village grid, community grid, specialised grid (专属网格: a
// school, a market, an industrial park).
const (
	KindVillage     GridKind = "village"
	KindCommunity   GridKind = "community"
	KindSpecialised GridKind = "specialised"
)

// Unit is an administrative unit.
type Unit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  Level  `json:"level"`
	Parent string `json:"parent,omitempty"`
}

// UnitCounts are the sizes shown with one unit.
type UnitCounts struct {
	Children     int `json:"children"`
	Grids        int `json:"grids"`
	Households   int `json:"households"`
	Residents    int `json:"residents"`
	PartyMembers int `json:"party_members"`
}

// UnitDetail is one unit with its path from the county down (itself excluded) and counts.
type UnitDetail struct {
	Unit
	Path   []Unit          `json:"path"`
	Counts UnitCounts      `json:"counts"`
	BBox   []float64       `json:"bbox,omitempty"`
	Geom   json.RawMessage `json:"geometry,omitempty"`
}

// GridSummary is a grid as listed, with its geometry already encoded as GeoJSON.
type GridSummary struct {
	ID         int64           `json:"id"`
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	Kind       GridKind        `json:"kind"`
	Unit       string          `json:"unit"`
	Households int             `json:"households"`
	Residents  int             `json:"residents"`
	Version    int             `json:"version"`
	ValidFrom  time.Time       `json:"valid_from"`
	Geometry   json.RawMessage `json:"-"`
}
