package coord

import (
	"errors"
	"fmt"
	"strings"
)

// CRS names one of the geographic coordinate systems the package converts
// between. The zero value is WGS84, the default of the public API.
type CRS uint8

// The supported coordinate systems.
const (
	WGS84 CRS = iota // WGS84 (EPSG:4326; CGCS2000 treated as equal)
	GCJ02            // GCJ-02, China's obfuscated datum (AMap, Tencent, WeChat)
	BD09             // BD-09, Baidu's further offset of GCJ-02
)

// ErrUnknownCRS is wrapped by the error Parse returns for an unknown name.
var ErrUnknownCRS = errors.New("coord: unknown crs")

// String returns the lower-case name used in URLs: "wgs84", "gcj02", "bd09".
func (c CRS) String() string {
	switch c {
	case WGS84:
		return "wgs84"
	case GCJ02:
		return "gcj02"
	case BD09:
		return "bd09"
	}
	return fmt.Sprintf("CRS(%d)", uint8(c))
}

// Valid reports whether c is one of the defined values.
func (c CRS) Valid() bool {
	return c <= BD09
}

// Parse returns the CRS named by s: "wgs84", "gcj02" or "bd09", in any
// case, surrounding spaces ignored. Any other name is an error wrapping
// ErrUnknownCRS that lists the accepted values.
func Parse(s string) (CRS, error) {
	t := strings.TrimSpace(s)
	for _, c := range [...]CRS{WGS84, GCJ02, BD09} {
		if strings.EqualFold(t, c.String()) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w %q: want wgs84, gcj02 or bd09", ErrUnknownCRS, s)
}

// MarshalText implements encoding.TextMarshaler.
func (c CRS) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownCRS, uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using Parse.
func (c *CRS) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
