package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/ingest"
	"gridmap/geo/store"
)

// importBodyLimit caps a household file sent to the import route (a million households
// as GeoJSON is about 200 MB). The server-wide BodyLimit applies first.
const defaultImportLimit = 512 << 20

// importHouseholds is POST /api/v1/import/households?crs=&unit=&skip_invalid=&encoding=:
// a CSV or GeoJSON file as the body (text/csv, application/geo+json, application/json) or
// as the multipart form field "file", streamed into one transaction. 200 answers the
// counts and the report of skipped rows; a malformed file is 400 naming the field; bad
// rows (without skip_invalid=true) are 422 with the report, and nothing is written.
func (s *Server) importHouseholds(c echo.Context) error {
	if err := onlyParams(c, "crs", "unit", "skip_invalid", "encoding"); err != nil {
		return err
	}
	crs := coord.WGS84
	if v := c.QueryParam("crs"); v != "" {
		var err error
		if crs, err = coord.Parse(v); err != nil {
			return geo.Invalid("crs", fmt.Sprintf("unknown coordinate system %q: want wgs84, gcj02 or bd09", v))
		}
	}
	unit, err := unitParam(c, "unit")
	if err != nil {
		return err
	}
	if unit != "" && len(unit) != 12 {
		return geo.Invalid("unit", fmt.Sprintf("households belong to a village or community (12 digits), not %q", unit))
	}
	skip := false
	if v := c.QueryParam("skip_invalid"); v != "" {
		if skip, err = strconv.ParseBool(v); err != nil {
			return geo.Invalid("skip_invalid", fmt.Sprintf("%q is not true or false", v))
		}
	}

	req := c.Request()
	if req.ContentLength > s.importLimit {
		return echo.ErrStatusRequestEntityTooLarge
	}
	body, format, charset, err := importFile(req)
	if err != nil {
		return err
	}
	enc := c.QueryParam("encoding")
	if enc == "" {
		enc = charset
	}
	// The upload is received whole before the import begins, so that its transaction (and a
	// bulk load's lock on households) never waits for a slow client.
	f, size, err := spool(body, s.importLimit)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	p, err := ingest.NewParser(f, ingest.Options{Format: format, CRS: crs, Encoding: enc})
	if err != nil {
		return err
	}
	res, err := s.store.ImportHouseholds(req.Context(), p, store.ImportOptions{Unit: unit, SkipInvalid: skip, SizeHint: size})
	var in *geo.InputError
	if errors.As(err, &in) && in.Code == "invalid_rows" {
		// The file is well formed but some rows are not: 422 with the report.
		return c.JSON(http.StatusUnprocessableEntity, ErrorBody{ErrorDetail{Code: in.Code, Message: in.Reason, Field: in.Field, Details: in.Details}})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// importFile finds the file in the request: the body itself, or the multipart field
// "file". The format comes from the content type (or the file name's extension), else
// from the first byte; charset is the content type's charset parameter, if any.
func importFile(req *http.Request) (io.Reader, ingest.Format, string, error) {
	ct := req.Header.Get(echo.HeaderContentType)
	mt, params, _ := mime.ParseMediaType(ct)
	if mt != "multipart/form-data" {
		return req.Body, formatOf(mt, ""), params["charset"], nil
	}
	mr, err := req.MultipartReader()
	if err != nil {
		return nil, 0, "", geo.Invalid("file", "malformed multipart body: "+err.Error())
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, 0, "", geo.Invalid("file", `the multipart body has no field "file"`)
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, 0, "", err
		}
		if err != nil {
			return nil, 0, "", geo.Invalid("file", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != "file" {
			continue
		}
		pmt, pparams, _ := mime.ParseMediaType(part.Header.Get(echo.HeaderContentType))
		return part, formatOf(pmt, part.FileName()), pparams["charset"], nil
	}
}

func formatOf(mediaType, fileName string) ingest.Format {
	switch mediaType {
	case "text/csv", "application/csv", "text/comma-separated-values", "text/tab-separated-values":
		return ingest.FormatCSV
	case "application/geo+json", "application/json", "application/vnd.geo+json":
		return ingest.FormatGeoJSON
	}
	switch strings.ToLower(path.Ext(fileName)) {
	case ".csv", ".tsv", ".txt":
		return ingest.FormatCSV
	case ".geojson", ".json":
		return ingest.FormatGeoJSON
	}
	return ingest.FormatAuto
}

// spool copies an upload of at most limit bytes into a temporary file, rewound; the caller
// closes and removes it. A longer upload is 413.
func spool(body io.Reader, limit int64) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "gridmap-import-*")
	if err != nil {
		return nil, 0, fmt.Errorf("api: import: spool the upload: %w", err)
	}
	n, err := io.Copy(f, &capReader{r: body, left: limit})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("api: import: receive the upload: %w", err)
	}
	return f, n, nil
}

// capReader answers 413 once more than left bytes have been read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, echo.ErrStatusRequestEntityTooLarge
	}
	if int64(len(b)) > c.left {
		b = b[:c.left+1] // one byte more tells a body that ends exactly at the limit from a longer one
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if c.left < 0 {
		return n, echo.ErrStatusRequestEntityTooLarge
	}
	return n, err
}
