package ingest

import (
	"fmt"
	"sort"
	"strings"

	"gridmap/geo"
	"gridmap/geo/coord"
)

// Format is a household file's format.
type Format uint8

// The formats. FormatAuto decides by the first non-space byte: '{' is GeoJSON,
// anything else CSV.
const (
	FormatAuto Format = iota
	FormatCSV
	FormatGeoJSON
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatGeoJSON:
		return "geojson"
	}
	return "auto"
}

// Options say how to read a file.
type Options struct {
	Format Format
	// CRS is the coordinate system of the file's coordinates; rows come out in WGS84.
	CRS coord.CRS
	// Encoding is "" (UTF-8, or GBK when the start of the file is not valid UTF-8),
	// "utf-8", "gbk" (also "gb2312", "cp936") or "gb18030". A UTF-8 byte-order mark
	// always wins.
	Encoding string
}

// Row is one valid household, in WGS84.
type Row struct {
	Line       int // CSV line of the record, or the GeoJSON feature's number (1-based)
	ExternalID string
	Lon, Lat   float64
	Address    string
	HeadName   string // "" when not given
	HeadPhone  string // "" when not given
	Residents  int    // 1 when not given
	Party      bool
	Unit       string // 12-digit village/community code from the file; "" when not given
}

// MaxProblems is how many bad rows a Report lists; the rest are only counted.
const MaxProblems = 100

// Problem says why one row is bad.
type Problem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Report lists the first MaxProblems bad rows and counts them all.
type Report struct {
	Rows    []Problem `json:"rows"`
	BadRows int       `json:"bad_rows"`
}

// Add records a bad row.
func (r *Report) Add(line int, field, reason string) {
	r.BadRows++
	if len(r.Rows) < MaxProblems {
		r.Rows = append(r.Rows, Problem{Line: line, Field: field, Reason: reason})
	}
}

// Sort orders the listed problems by line.
func (r *Report) Sort() {
	sort.SliceStable(r.Rows, func(i, j int) bool { return r.Rows[i].Line < r.Rows[j].Line })
}

// Limits on text fields, in characters.
const (
	maxIDLen      = 100
	maxAddressLen = 500
	maxNameLen    = 100
)

// field is a household attribute a file may carry.
type field uint8

const (
	fExternalID field = iota
	fLon
	fLat
	fWKT
	fAddress
	fResidents
	fParty
	fHeadName
	fHeadPhone
	fUnit
	numFields
)

// name is the field's canonical column name.
func (f field) name() string {
	return [...]string{"external_id", "lon", "lat", "wkt", "address", "residents", "party", "head_name", "head_phone", "unit"}[f]
}

// fieldOf maps a column or property name (any case, spaces and BOM trimmed) to its field.
func fieldOf(name string) (field, bool) {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
	switch n {
	case "external_id", "externalid", "external id", "id", "household_id", "户号", "户编号", "户籍编号":
		return fExternalID, true
	case "lon", "lng", "long", "longitude", "x", "经度":
		return fLon, true
	case "lat", "latitude", "y", "纬度":
		return fLat, true
	case "wkt", "geometry", "geom", "the_geom":
		return fWKT, true
	case "address", "addr", "地址", "住址", "家庭住址":
		return fAddress, true
	case "residents", "population", "persons", "people", "人口", "人数", "家庭人口":
		return fResidents, true
	case "party", "party_household", "is_party", "党员户", "是否党员户":
		return fParty, true
	case "head_name", "head", "householder", "户主", "户主姓名":
		return fHeadName, true
	case "phone", "head_phone", "tel", "telephone", "mobile", "电话", "联系电话", "手机", "手机号":
		return fHeadPhone, true
	case "unit", "unit_code", "village_code", "区划代码", "村社区代码":
		return fUnit, true
	}
	return 0, false
}

// aliasHint lists the accepted names of a required field for error messages.
func aliasHint(f field) string {
	switch f {
	case fExternalID:
		return "external_id (or id, 户号)"
	case fLon:
		return "lon (or longitude, lng, x, 经度)"
	case fLat:
		return "lat (or latitude, y, 纬度)"
	}
	return f.name()
}

// fileError is the error of a malformed file: code invalid_file, naming the field.
func fileError(fieldName, reason string, details map[string]any) error {
	return fmt.Errorf("ingest: %w", &geo.InputError{Code: "invalid_file", Field: fieldName, Reason: reason, Details: details})
}
