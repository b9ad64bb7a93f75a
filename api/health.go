package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// health answers 200 when the service and its database answer, else 503 (JSON error).
func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}
