package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
)

// ErrorBody is the JSON shape of every error: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, with which field, in a stable machine-readable code.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// handleError is the one place errors become responses. It unwraps with errors.As/Is, so
// wrapped errors keep their status; unexpected errors answer 500 without internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.describe(err, c)
	// HEAD was routed as GET (headAsGet); net/http drops the body.
	if werr := c.JSON(status, body); werr != nil {
		s.log.Error("write error response", "error", werr)
	}
}

func (s *Server) describe(err error, c echo.Context) (int, ErrorBody) {
	var in *geo.InputError
	var he *echo.HTTPError
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.Status, ErrorBody{se.Detail}
	case errors.As(err, &in):
		status := http.StatusBadRequest
		if in.Code == "invalid_geometry" || strings.HasPrefix(in.Code, "topology_") {
			status = http.StatusUnprocessableEntity
		}
		return status, ErrorBody{ErrorDetail{Code: in.Code, Message: in.Reason, Field: in.Field, Details: in.Details}}
	case errors.Is(err, geo.ErrNotFound):
		return http.StatusNotFound, body("not_found", trimPrefix(err))
	case errors.Is(err, geo.ErrConflict):
		return http.StatusConflict, body("conflict", trimPrefix(err))
	case errors.Is(err, geo.ErrPrecondition):
		return http.StatusPreconditionFailed, body("precondition_failed", trimPrefix(err))
	case errors.Is(err, geo.ErrUnavailable):
		s.log.Error("database unavailable", "error", err, "id", requestID(c))
		return http.StatusServiceUnavailable, body("database_unavailable", "the database does not answer; try again shortly")
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, body("timeout", "the request took too long")
	case errors.As(err, &he):
		msg := fmt.Sprint(he.Message)
		if he.Code == http.StatusNotFound {
			msg = fmt.Sprintf("no such route: %s %s", c.Request().Method, c.Request().URL.Path)
		}
		return he.Code, body(httpCode(he.Code), msg)
	}
	s.log.Error("unexpected error", "error", err, "id", requestID(c))
	return http.StatusInternalServerError, body("internal", "internal error; quote request id "+requestID(c))
}

// statusError is an error with its own status and body, for answers the sentinels cannot
// describe (a 404 that names the nearest grid, a 413 for too many points).
type statusError struct {
	Status int
	Detail ErrorDetail
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Detail.Code, e.Detail.Message)
}

func body(code, msg string) ErrorBody { return ErrorBody{ErrorDetail{Code: code, Message: msg}} }

// trimPrefix keeps the last, most specific part of a wrapped "pkg: op: thing: sentinel"
// message, without the internal package prefixes.
func trimPrefix(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: ", "geo: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

func httpCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusPreconditionRequired:
		return "precondition_required"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// asErr is errors.As for the error handler's helpers.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
