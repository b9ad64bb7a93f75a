package geo

import (
	"errors"
	"fmt"
)

// Sentinel errors of the domain. The API maps them to HTTP statuses with errors.Is, so they
// may be wrapped freely.
var (
	ErrNotFound     = errors.New("geo: not found")
	ErrConflict     = errors.New("geo: conflict")
	ErrUnavailable  = errors.New("geo: database unavailable")
	ErrPrecondition = errors.New("geo: precondition failed")
)

// InputError reports bad input: which field, why, and optional machine-readable details.
// Code is a short snake_case name such as "invalid_parameter" or "invalid_geometry".
type InputError struct {
	Code    string
	Field   string
	Reason  string
	Details map[string]any
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "geo: " + e.Reason
	}
	return fmt.Sprintf("geo: %s: %s", e.Field, e.Reason)
}

// Invalid returns an *InputError with code "invalid_parameter".
func Invalid(field, reason string) *InputError {
	return &InputError{Code: "invalid_parameter", Field: field, Reason: reason}
}

// NotFound wraps ErrNotFound with what was looked for.
func NotFound(what, key string) error {
	return fmt.Errorf("%s %q: %w", what, key, ErrNotFound)
}
