package geo

import "fmt"

// LevelOfCode returns the depth of a statistical code: 6 digits county, 9 township/street,
// 12 village/community. Anything else is an *InputError on field.
func LevelOfCode(field, code string) (depth int, err error) {
	for _, r := range code {
		if r < '0' || r > '9' {
			return 0, Invalid(field, fmt.Sprintf("unit code %q must be digits only", code))
		}
	}
	switch len(code) {
	case 6, 9, 12:
		return len(code), nil
	}
	return 0, Invalid(field, fmt.Sprintf("unit code %q must have 6, 9 or 12 digits (county, township/street, village/community)", code))
}

// GridCode builds the 15-character grid code from a 12-digit unit code and a sequence 1–999.
func GridCode(unit string, seq int) (string, error) {
	if d, err := LevelOfCode("unit", unit); err != nil {
		return "", err
	} else if d != 12 {
		return "", Invalid("unit", fmt.Sprintf("grids belong to a village or community (12 digits), not %q", unit))
	}
	if seq < 1 || seq > 999 {
		return "", Invalid("code", fmt.Sprintf("grid sequence %d is outside 1–999", seq))
	}
	return fmt.Sprintf("%s%03d", unit, seq), nil
}
