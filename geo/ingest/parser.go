package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/paulmach/orb"

	"gridmap/geo"
	"gridmap/geo/coord"
)

// sniffSize is how much of the file decides the format and the encoding.
const sniffSize = 64 << 10

// Parser streams the valid rows of a household file and reports the bad ones.
//
//	p, err := ingest.NewParser(r, opts)
//	for p.Next() { use(p.Row()) }
//	if err := p.Err(); err != nil { … }   // malformed file or read error
//	report := p.Report()                   // bad rows, left out
type Parser struct {
	opts     Options
	format   Format
	encoding string // what was used: "utf-8", "gbk", "gb18030"
	next     func() (Row, bool, error)
	row      Row
	err      error
	done     bool
	report   Report
	seen     idSet // external id → line of its first occurrence
	// slowJSON decodes every GeoJSON feature with encoding/json, as the parser did before
	// the fast feature decoder: the reference the tests compare the fast path with.
	slowJSON bool
}

// NewParser starts reading a file: it settles the encoding and the format and reads the
// header (CSV) or the members before "features" (GeoJSON). A malformed start is an error
// wrapping a *geo.InputError.
func NewParser(r io.Reader, opts Options) (*Parser, error) {
	return newParser(r, opts, false)
}

// newParser is NewParser, with the GeoJSON features decoded by encoding/json alone when
// slowJSON is set.
func newParser(r io.Reader, opts Options, slowJSON bool) (*Parser, error) {
	if !opts.CRS.Valid() {
		return nil, fmt.Errorf("ingest: %w", geo.Invalid("crs", fmt.Sprintf("unknown coordinate system %d", opts.CRS)))
	}
	enc, name, err := encodingOf(opts.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	atEOF := errors.Is(err, io.EOF)
	if err != nil && !atEOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("ingest: read file: %w", err)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) { // a UTF-8 byte-order mark settles it
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("ingest: read file: %w", err)
		}
		head = head[3:]
		enc, name = nil, "utf-8"
	} else if opts.Encoding == "" && !validUTF8Prefix(head, atEOF) {
		enc, name = simplifiedchinese.GBK, "gbk"
	}
	p := &Parser{opts: opts, encoding: name, slowJSON: slowJSON}
	var src io.Reader = br
	if enc != nil {
		src = transform.NewReader(br, enc.NewDecoder())
	}
	p.format = opts.Format
	if p.format == FormatAuto {
		p.format = FormatCSV
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
			p.format = FormatGeoJSON
		}
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, fileError("file", "the file is empty", nil)
	}
	switch p.format {
	case FormatCSV:
		err = p.startCSV(src, head)
	case FormatGeoJSON:
		err = p.startGeoJSON(src)
	default:
		err = fmt.Errorf("ingest: unknown format %d", p.format)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Format is the format being read.
func (p *Parser) Format() Format { return p.format }

// Encoding is the text encoding being read: "utf-8", "gbk" or "gb18030".
func (p *Parser) Encoding() string { return p.encoding }

// Next advances to the next valid row. It returns false at the end of the file or on
// a malformed file (see Err).
func (p *Parser) Next() bool {
	if p.done {
		return false
	}
	row, ok, err := p.next()
	if err != nil || !ok {
		p.err, p.done = err, true
		return false
	}
	p.row = row
	return true
}

// Row is the current row.
func (p *Parser) Row() Row { return p.row }

// Err is the error that stopped the parser: a malformed file (wrapping *geo.InputError)
// or a read error. It is nil at a clean end of file.
func (p *Parser) Err() error { return p.err }

// Report is the report of bad rows so far.
func (p *Parser) Report() *Report { return &p.report }

// ParseAll reads a whole file into memory: for tests and small files.
func ParseAll(r io.Reader, opts Options) ([]Row, *Report, error) {
	p, err := NewParser(r, opts)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	for p.Next() {
		rows = append(rows, p.Row())
	}
	return rows, p.Report(), p.Err()
}

// encodingOf resolves a declared encoding; nil means UTF-8.
func encodingOf(name string) (encoding.Encoding, string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return nil, "utf-8", nil
	case "utf-8", "utf8":
		return nil, "utf-8", nil
	case "gbk", "gb2312", "cp936":
		return simplifiedchinese.GBK, "gbk", nil
	case "gb18030":
		return simplifiedchinese.GB18030, "gb18030", nil
	}
	return nil, "", fmt.Errorf("ingest: %w", geo.Invalid("encoding", fmt.Sprintf("unknown encoding %q: want utf-8, gbk or gb18030", name)))
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a rune cut at the end when
// more of the file follows.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if !atEOF {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// record is one household as text, before validation. name holds the field's name in the
// file (a column header, or "properties.x") for the report.
type record struct {
	line     int
	text     [numFields]string
	name     [numFields]string
	hasPoint bool // lon/lat come from a GeoJSON geometry, already numbers
	lon, lat float64
}

func (rec *record) fieldName(f field) string {
	if rec.name[f] != "" {
		return rec.name[f]
	}
	return f.name()
}

// finish validates a record. A bad record is reported and ok is false.
func (p *Parser) finish(rec *record) (Row, bool) {
	bad := func(f field, reason string) (Row, bool) {
		p.report.Add(rec.line, rec.fieldName(f), reason)
		return Row{}, false
	}
	for f := field(0); f < numFields; f++ {
		t := rec.text[f]
		if !utf8.ValidString(t) {
			return bad(f, "is not valid UTF-8 text (for a GBK file, declare encoding=gbk)")
		}
		if strings.IndexByte(t, 0) >= 0 {
			return bad(f, "contains a NUL character")
		}
	}
	row := Row{Line: rec.line}

	row.ExternalID = rec.text[fExternalID]
	switch n := utf8.RuneCountInString(row.ExternalID); {
	case n == 0:
		return bad(fExternalID, "missing external id")
	case n > maxIDLen:
		return bad(fExternalID, fmt.Sprintf("external id longer than %d characters", maxIDLen))
	}
	if first, dup := p.seen.add(row.ExternalID, rec.line); dup {
		return bad(fExternalID, fmt.Sprintf("duplicate external id %q: first used on line %d", row.ExternalID, first))
	}

	lon, lat := rec.lon, rec.lat
	if !rec.hasPoint {
		lonText, latText, wkt := rec.text[fLon], rec.text[fLat], rec.text[fWKT]
		switch {
		case lonText != "" || latText != "":
			var reason string
			if lon, reason = parseCoord(lonText); reason != "" {
				return bad(fLon, reason)
			}
			if lat, reason = parseCoord(latText); reason != "" {
				return bad(fLat, reason)
			}
		case wkt != "":
			var reason string
			if lon, lat, reason = parseWKT(wkt); reason != "" {
				return bad(fWKT, reason)
			}
		default:
			return bad(fLon, "missing coordinates")
		}
	}
	if reason := checkLonLat(lon, lat); reason != "" {
		f := fLon
		if strings.HasPrefix(reason, "latitude") {
			f = fLat
		}
		if !rec.hasPoint && rec.text[fLon] == "" && rec.text[fWKT] != "" {
			f = fWKT
		}
		return bad(f, reason)
	}
	pt := coord.ToWGS84(orb.Point{lon, lat}, p.opts.CRS)
	if reason := checkLonLat(pt[0], pt[1]); reason != "" {
		return bad(fLon, "after conversion from "+p.opts.CRS.String()+": "+reason)
	}
	row.Lon, row.Lat = pt[0], pt[1]

	row.Residents = 1
	if t := rec.text[fResidents]; t != "" {
		n, reason := parseResidents(t)
		if reason != "" {
			return bad(fResidents, reason)
		}
		row.Residents = n
	}
	if t := rec.text[fParty]; t != "" {
		v, ok := parseParty(t)
		if !ok {
			return bad(fParty, fmt.Sprintf("%q is not a yes/no value: want true/false, 1/0 or 是/否", t))
		}
		row.Party = v
	}
	row.Address = rec.text[fAddress]
	if utf8.RuneCountInString(row.Address) > maxAddressLen {
		return bad(fAddress, fmt.Sprintf("address longer than %d characters", maxAddressLen))
	}
	row.HeadName, row.HeadPhone = rec.text[fHeadName], rec.text[fHeadPhone]
	if utf8.RuneCountInString(row.HeadName) > maxNameLen {
		return bad(fHeadName, fmt.Sprintf("longer than %d characters", maxNameLen))
	}
	if utf8.RuneCountInString(row.HeadPhone) > maxNameLen {
		return bad(fHeadPhone, fmt.Sprintf("longer than %d characters", maxNameLen))
	}
	if u := rec.text[fUnit]; u != "" {
		if d, err := geo.LevelOfCode("unit", u); err != nil || d != 12 {
			return bad(fUnit, fmt.Sprintf("unit %q is not a 12-digit village or community code", u))
		}
		row.Unit = u
	}
	return row, true
}
