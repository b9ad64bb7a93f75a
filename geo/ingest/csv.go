package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvState is the reader and the column of each field (-1: absent).
type csvState struct {
	r      *csv.Reader
	col    [numFields]int
	header []string
}

// startCSV reads the header row. The delimiter is a comma, or a tab or semicolon when the
// header has one of those and no comma.
func (p *Parser) startCSV(src io.Reader, head []byte) error {
	r := csv.NewReader(src)
	first := head
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	if !bytes.ContainsRune(first, ',') {
		switch {
		case bytes.ContainsRune(first, '\t'):
			r.Comma = '\t'
		case bytes.ContainsRune(first, ';'):
			r.Comma = ';'
		}
	}
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	hdr, err := r.Read()
	if err != nil {
		return csvError(err, "header")
	}
	st := &csvState{r: r, header: make([]string, len(hdr))}
	for f := range st.col {
		st.col[f] = -1
	}
	for i, h := range hdr {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		st.header[i] = h
		f, ok := fieldOf(h)
		if !ok {
			continue // extra columns are allowed and ignored
		}
		if j := st.col[f]; j >= 0 {
			return fileError("header", fmt.Sprintf("columns %q and %q both give %s", st.header[j], h, f.name()), map[string]any{"line": 1})
		}
		st.col[f] = i
	}
	if st.col[fExternalID] < 0 {
		return fileError(fExternalID.name(), "missing column "+aliasHint(fExternalID), map[string]any{"header": st.header})
	}
	hasLon, hasLat := st.col[fLon] >= 0, st.col[fLat] >= 0
	switch {
	case hasLon && !hasLat:
		return fileError(fLat.name(), "missing column "+aliasHint(fLat), map[string]any{"header": st.header})
	case hasLat && !hasLon:
		return fileError(fLon.name(), "missing column "+aliasHint(fLon), map[string]any{"header": st.header})
	case !hasLon && st.col[fWKT] < 0:
		return fileError(fLon.name(), "missing coordinates: want lon and lat columns (or longitude/latitude, x/y, 经度/纬度) or a wkt column", map[string]any{"header": st.header})
	}
	p.next = st.next(p)
	return nil
}

// next returns the function that reads the next valid row.
func (st *csvState) next(p *Parser) func() (Row, bool, error) {
	return func() (Row, bool, error) {
		for {
			fields, err := st.r.Read()
			if errors.Is(err, io.EOF) {
				return Row{}, false, nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				p.report.Add(pe.StartLine, "file", fmt.Sprintf("the row has %d fields, the header has %d", len(fields), len(st.header)))
				continue
			}
			if err != nil {
				return Row{}, false, csvError(err, "file")
			}
			line, _ := st.r.FieldPos(0)
			blank := true
			for _, v := range fields {
				blank = blank && strings.TrimSpace(v) == ""
			}
			if blank {
				continue // an empty row, as spreadsheets leave them
			}
			rec := record{line: line}
			for f, c := range st.col {
				if c >= 0 {
					rec.text[f] = strings.TrimSpace(fields[c])
					rec.name[f] = st.header[c]
				}
			}
			if row, ok := p.finish(&rec); ok {
				return row, true, nil
			}
		}
	}
}

// csvError turns a CSV syntax error into a malformed-file error naming the line, and
// wraps anything else (a read error) as it is.
func csvError(err error, fieldName string) error {
	if errors.Is(err, io.EOF) {
		return fileError(fieldName, "the file has no header row", nil)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileError(fieldName, fmt.Sprintf("malformed CSV on line %d, column %d: %v", pe.Line, pe.Column, pe.Err),
			map[string]any{"line": pe.Line, "column": pe.Column})
	}
	return fmt.Errorf("ingest: read CSV: %w", err)
}
