package ogc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridmap/geo"
)

// This file holds a small CQL2 text parser (OGC API – Features Part 3, basic CQL2 plus
// S_INTERSECTS): AND / OR / NOT, parentheses, comparisons (= <> < <= > >=), LIKE, BETWEEN,
// IN, IS [NOT] NULL, and S_INTERSECTS(geometry, WKT | BBOX(…)). Properties must be
// queryables; every literal becomes a bound parameter.

// args numbers the placeholders of a query.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// col is the SQL reference to a view column.
func col(name string) string { return "t." + pgx.Identifier{name}.Sanitize() }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuoted // "property"
	tString
	tNumber
	tOp // = <> < <= > >= ( ) ,
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(src) {
					return nil, filterError(i, "unterminated string")
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(src[j])
			}
			out = append(out, token{tString, b.String(), i})
			i = j + 1
		case c == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				return nil, filterError(i, "unterminated quoted property name")
			}
			out = append(out, token{tQuoted, src[i+1 : i+1+j], i})
			i += j + 2
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			if _, err := strconv.ParseFloat(src[i:j], 64); err != nil {
				return nil, filterError(i, fmt.Sprintf("%q is not a number", src[i:j]))
			}
			out = append(out, token{tNumber, src[i:j], i})
			i = j
		case c == '<' || c == '>':
			if i+1 < len(src) && (src[i+1] == '=' || c == '<' && src[i+1] == '>') {
				out = append(out, token{tOp, src[i : i+2], i})
				i += 2
			} else {
				out = append(out, token{tOp, src[i : i+1], i})
				i++
			}
		case c == '=' || c == '(' || c == ')' || c == ',':
			out = append(out, token{tOp, src[i : i+1], i})
			i++
		case c == '_' || c < 0x80 && unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] == ':' || src[j] < 0x80 && (unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j])))) {
				j++
			}
			out = append(out, token{tIdent, src[i:j], i})
			i = j
		default:
			return nil, filterError(i, fmt.Sprintf("unexpected character %q", c))
		}
	}
	return append(out, token{tEOF, "", len(src)}), nil
}

func filterError(pos int, msg string) error {
	e := geo.Invalid("filter", fmt.Sprintf("CQL2 text, at character %d: %s", pos+1, msg))
	e.Details = map[string]any{"position": pos + 1}
	return e
}

// cqlParser turns CQL2 text into a SQL condition over the view's columns.
type cqlParser struct {
	toks   []token
	i      int
	coll   *collection
	args   *args
	geoCRS crsKind // filter-crs: the CRS of geometry literals
}

// parseFilter parses src and returns the SQL condition, its parameters appended to a.
func parseFilter(src string, coll *collection, a *args, fcrs crsKind) (string, error) {
	toks, err := lex(src)
	if err != nil {
		return "", err
	}
	p := &cqlParser{toks: toks, coll: coll, args: a, geoCRS: fcrs}
	sql, err := p.or()
	if err != nil {
		return "", err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", filterError(t.pos, fmt.Sprintf("unexpected %q", t.text))
	}
	return sql, nil
}

func (p *cqlParser) peek() token { return p.toks[p.i] }
func (p *cqlParser) next() token { t := p.toks[p.i]; p.i = min(p.i+1, len(p.toks)-1); return t }

func (p *cqlParser) keyword(words ...string) bool {
	for k, w := range words {
		t := p.toks[min(p.i+k, len(p.toks)-1)]
		if t.kind != tIdent || !strings.EqualFold(t.text, w) {
			return false
		}
	}
	p.i += len(words)
	return true
}

func (p *cqlParser) expect(op string) error {
	t := p.next()
	if t.kind != tOp || t.text != op {
		return filterError(t.pos, fmt.Sprintf("expected %q, found %q", op, t.text))
	}
	return nil
}

func (p *cqlParser) or() (string, error) {
	left, err := p.and()
	if err != nil {
		return "", err
	}
	for p.keyword("OR") {
		right, err := p.and()
		if err != nil {
			return "", err
		}
		left = "(" + left + " OR " + right + ")"
	}
	return left, nil
}

func (p *cqlParser) and() (string, error) {
	left, err := p.not()
	if err != nil {
		return "", err
	}
	for p.keyword("AND") {
		right, err := p.not()
		if err != nil {
			return "", err
		}
		left = "(" + left + " AND " + right + ")"
	}
	return left, nil
}

func (p *cqlParser) not() (string, error) {
	if p.keyword("NOT") {
		inner, err := p.not()
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	}
	return p.primary()
}

// operand is a property or a literal, with its type ("" for a literal of any type).
type operand struct {
	prop *property
	lit  any
	text string // for messages
	pos  int
}

func (p *cqlParser) primary() (string, error) {
	t := p.peek()
	if t.kind == tOp && t.text == "(" {
		p.next()
		inner, err := p.or()
		if err != nil {
			return "", err
		}
		if err := p.expect(")"); err != nil {
			return "", err
		}
		return inner, nil
	}
	if t.kind == tIdent && (strings.EqualFold(t.text, "S_INTERSECTS") || strings.EqualFold(t.text, "INTERSECTS")) {
		return p.intersects()
	}
	if p.keyword("TRUE") {
		return "true", nil
	}
	if p.keyword("FALSE") {
		return "false", nil
	}
	left, err := p.operand()
	if err != nil {
		return "", err
	}
	negate := p.keyword("NOT")
	switch {
	case p.keyword("LIKE"):
		right, err := p.operand()
		if err != nil {
			return "", err
		}
		if left.prop == nil || left.prop.Type != "string" {
			return "", filterError(left.pos, "LIKE needs a string property on its left")
		}
		s, ok := right.lit.(string)
		if !ok {
			return "", filterError(right.pos, "LIKE needs a string pattern")
		}
		op := " LIKE "
		if negate {
			op = " NOT LIKE "
		}
		return "(" + col(left.prop.Name) + op + p.args.add(s) + ")", nil
	case p.keyword("BETWEEN"):
		lo, err := p.operand()
		if err != nil {
			return "", err
		}
		if !p.keyword("AND") {
			return "", filterError(p.peek().pos, "BETWEEN needs AND")
		}
		hi, err := p.operand()
		if err != nil {
			return "", err
		}
		a, err := p.compare(left, ">=", lo)
		if err != nil {
			return "", err
		}
		b, err := p.compare(left, "<=", hi)
		if err != nil {
			return "", err
		}
		if negate {
			return "(NOT (" + a + " AND " + b + "))", nil
		}
		return "(" + a + " AND " + b + ")", nil
	case p.keyword("IN"):
		if err := p.expect("("); err != nil {
			return "", err
		}
		var parts []string
		for {
			v, err := p.operand()
			if err != nil {
				return "", err
			}
			c, err := p.compare(left, "=", v)
			if err != nil {
				return "", err
			}
			parts = append(parts, c)
			if t := p.peek(); t.kind == tOp && t.text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return "", err
		}
		in := "(" + strings.Join(parts, " OR ") + ")"
		if negate {
			return "(NOT " + in + ")", nil
		}
		return in, nil
	case negate:
		return "", filterError(p.peek().pos, "expected LIKE, BETWEEN or IN after NOT")
	case p.keyword("IS"):
		not := p.keyword("NOT")
		if !p.keyword("NULL") {
			return "", filterError(p.peek().pos, "expected NULL after IS")
		}
		if left.prop == nil {
			return "", filterError(left.pos, "IS NULL needs a property")
		}
		if not {
			return "(" + col(left.prop.Name) + " IS NOT NULL)", nil
		}
		return "(" + col(left.prop.Name) + " IS NULL)", nil
	}
	op := p.next()
	if op.kind != tOp || !isComparison(op.text) {
		return "", filterError(op.pos, fmt.Sprintf("expected a comparison (=, <>, <, <=, >, >=), found %q", op.text))
	}
	right, err := p.operand()
	if err != nil {
		return "", err
	}
	return p.compare(left, op.text, right)
}

// operand reads a property name or a literal.
func (p *cqlParser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return operand{lit: t.text, text: t.text, pos: t.pos}, nil
	case tNumber:
		if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return operand{lit: i, text: t.text, pos: t.pos}, nil
		}
		f, _ := strconv.ParseFloat(t.text, 64)
		return operand{lit: f, text: t.text, pos: t.pos}, nil
	case tQuoted, tIdent:
		up := strings.ToUpper(t.text)
		if t.kind == tIdent && (up == "TRUE" || up == "FALSE") {
			return operand{lit: up == "TRUE", text: t.text, pos: t.pos}, nil
		}
		if t.kind == tIdent && (up == "TIMESTAMP" || up == "DATE") {
			if err := p.expect("("); err != nil {
				return operand{}, err
			}
			s := p.next()
			if s.kind != tString {
				return operand{}, filterError(s.pos, up+" needs a quoted value")
			}
			if err := p.expect(")"); err != nil {
				return operand{}, err
			}
			ts, err := parseTime(s.text)
			if err != nil {
				return operand{}, filterError(s.pos, err.Error())
			}
			return operand{lit: ts, text: s.text, pos: t.pos}, nil
		}
		pr, ok := p.coll.prop(t.text)
		if !ok {
			return operand{}, p.unknownProperty(t)
		}
		return operand{prop: &pr, text: t.text, pos: t.pos}, nil
	}
	return operand{}, filterError(t.pos, fmt.Sprintf("expected a property or a value, found %q", t.text))
}

func (p *cqlParser) unknownProperty(t token) error {
	names := make([]string, 0, len(p.coll.Props))
	for _, pr := range p.coll.Props {
		names = append(names, pr.Name)
	}
	return filterError(t.pos, fmt.Sprintf("unknown property %q; queryables of %s: %s", t.text, p.coll.ID, strings.Join(names, ", ")))
}

// compare renders a comparison of a property with a literal (either side) or of two
// properties, converting the literal to the property's type.
func (p *cqlParser) compare(a operand, op string, b operand) (string, error) {
	if a.prop == nil && b.prop == nil {
		return "", filterError(a.pos, "a comparison needs a property on one side")
	}
	side := func(x, other operand) (string, error) {
		if x.prop != nil {
			return col(x.prop.Name), nil
		}
		v, err := literalAs(x.lit, other.prop.Type)
		if err != nil {
			return "", filterError(x.pos, fmt.Sprintf("%s: %v", other.prop.Name, err))
		}
		return p.args.add(v) + castOf(other.prop.Type), nil
	}
	l, err := side(a, b)
	if err != nil {
		return "", err
	}
	r, err := side(b, a)
	if err != nil {
		return "", err
	}
	return "(" + l + " " + op + " " + r + ")", nil
}

func castOf(typ string) string {
	switch typ {
	case "integer":
		return "::bigint"
	case "number":
		return "::float8"
	case "boolean":
		return "::boolean"
	case "date-time":
		return "::timestamptz"
	}
	return "::text"
}

// literalAs converts a literal to a property's type.
func literalAs(v any, typ string) (any, error) {
	switch typ {
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("expected a quoted string")
	case "integer":
		if i, ok := v.(int64); ok {
			return i, nil
		}
		return nil, fmt.Errorf("expected an integer")
	case "number":
		switch n := v.(type) {
		case int64:
			return float64(n), nil
		case float64:
			return n, nil
		}
		return nil, fmt.Errorf("expected a number")
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("expected TRUE or FALSE")
	case "date-time":
		switch t := v.(type) {
		case time.Time:
			return t, nil
		case string:
			return parseTime(t)
		}
		return nil, fmt.Errorf("expected TIMESTAMP('…')")
	}
	return nil, fmt.Errorf("cannot compare")
}

// intersects parses S_INTERSECTS(a, b) where one side is the geometry property.
func (p *cqlParser) intersects() (string, error) {
	p.next()
	if err := p.expect("("); err != nil {
		return "", err
	}
	var sides [2]string
	for i := range sides {
		if i == 1 {
			if err := p.expect(","); err != nil {
				return "", err
			}
		}
		s, err := p.geometryOperand()
		if err != nil {
			return "", err
		}
		sides[i] = s
	}
	if err := p.expect(")"); err != nil {
		return "", err
	}
	return "ST_Intersects(" + sides[0] + ", " + sides[1] + ")", nil
}

// geometryOperand reads the geometry property (geometry, geom) or a WKT / BBOX literal.
func (p *cqlParser) geometryOperand() (string, error) {
	t := p.peek()
	if t.kind == tQuoted || t.kind == tIdent && (strings.EqualFold(t.text, "geometry") || strings.EqualFold(t.text, "geom")) {
		p.next()
		if !strings.EqualFold(t.text, "geometry") && !strings.EqualFold(t.text, "geom") {
			return "", filterError(t.pos, fmt.Sprintf("%q is not a spatial property; use geometry", t.text))
		}
		return "t.geom", nil
	}
	g, err := p.wkt()
	if err != nil {
		return "", err
	}
	return p.geoCRS.toStored("ST_GeomFromWKB(" + p.args.add(wkb.Value(g)) + ")"), nil
}

// wkt parses a WKT geometry or BBOX(minx, miny, maxx, maxy) into orb.
func (p *cqlParser) wkt() (orb.Geometry, error) {
	t := p.next()
	if t.kind != tIdent {
		return nil, filterError(t.pos, fmt.Sprintf("expected the geometry property or a geometry (POINT, POLYGON, BBOX …), found %q", t.text))
	}
	kind := strings.ToUpper(t.text)
	if kind == "BBOX" || kind == "ENVELOPE" {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var v []float64
		for {
			n := p.next()
			if n.kind != tNumber {
				return nil, filterError(n.pos, "BBOX takes numbers")
			}
			f, _ := strconv.ParseFloat(n.text, 64)
			v = append(v, f)
			if c := p.peek(); c.kind == tOp && c.text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if len(v) == 6 {
			v = []float64{v[0], v[1], v[3], v[4]}
		}
		if len(v) != 4 || v[0] > v[2] || v[1] > v[3] {
			return nil, filterError(t.pos, "BBOX takes minx, miny, maxx, maxy with min ≤ max")
		}
		return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}.ToPolygon(), nil
	}
	switch kind {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON":
	default:
		return nil, filterError(t.pos, fmt.Sprintf("unsupported geometry %q", t.text))
	}
	n, err := p.nested()
	if err != nil {
		return nil, err
	}
	bad := func(msg string) error { return filterError(t.pos, kind+": "+msg) }
	pts := func(n wktNode) ([]orb.Point, error) {
		var out []orb.Point
		for _, c := range n.kids {
			if c.coord == nil {
				// MULTIPOINT ((1 2), (3 4))
				if len(c.kids) == 1 && c.kids[0].coord != nil {
					out = append(out, *c.kids[0].coord)
					continue
				}
				return nil, bad("expected coordinates")
			}
			out = append(out, *c.coord)
		}
		return out, nil
	}
	ring := func(n wktNode) (orb.Ring, error) {
		r, err := pts(n)
		if err != nil {
			return nil, err
		}
		if len(r) < 4 || r[0] != r[len(r)-1] {
			return nil, bad("a ring needs at least four positions, the last equal to the first")
		}
		return orb.Ring(r), nil
	}
	poly := func(n wktNode) (orb.Polygon, error) {
		var pg orb.Polygon
		for _, c := range n.kids {
			r, err := ring(c)
			if err != nil {
				return nil, err
			}
			pg = append(pg, r)
		}
		if len(pg) == 0 {
			return nil, bad("empty polygon")
		}
		return pg, nil
	}
	switch kind {
	case "POINT":
		ps, err := pts(n)
		if err != nil || len(ps) != 1 {
			return nil, bad("expected one position")
		}
		return ps[0], nil
	case "LINESTRING", "MULTIPOINT":
		ps, err := pts(n)
		if err != nil {
			return nil, err
		}
		if len(ps) < 2 && kind == "LINESTRING" || len(ps) == 0 {
			return nil, bad("too few positions")
		}
		if kind == "MULTIPOINT" {
			return orb.MultiPoint(ps), nil
		}
		return orb.LineString(ps), nil
	case "POLYGON":
		return poly(n)
	case "MULTILINESTRING":
		var ml orb.MultiLineString
		for _, c := range n.kids {
			ps, err := pts(c)
			if err != nil || len(ps) < 2 {
				return nil, bad("each line needs two positions or more")
			}
			ml = append(ml, ps)
		}
		return ml, nil
	default: // MULTIPOLYGON
		var mp orb.MultiPolygon
		for _, c := range n.kids {
			pg, err := poly(c)
			if err != nil {
				return nil, err
			}
			mp = append(mp, pg)
		}
		return mp, nil
	}
}

// wktNode is a parenthesised list whose items are coordinates or lists.
type wktNode struct {
	coord *orb.Point
	kids  []wktNode
}

// nested parses "( item, item … )" where an item is "x y" or a nested list.
func (p *cqlParser) nested() (wktNode, error) {
	if err := p.expect("("); err != nil {
		return wktNode{}, err
	}
	var n wktNode
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.text == "(":
			k, err := p.nested()
			if err != nil {
				return wktNode{}, err
			}
			n.kids = append(n.kids, k)
		case t.kind == tNumber:
			p.next()
			y := p.next()
			if y.kind != tNumber {
				return wktNode{}, filterError(y.pos, "a position needs two numbers")
			}
			if z := p.peek(); z.kind == tNumber { // a height: ignored
				p.next()
			}
			xv, _ := strconv.ParseFloat(t.text, 64)
			yv, _ := strconv.ParseFloat(y.text, 64)
			n.kids = append(n.kids, wktNode{coord: &orb.Point{xv, yv}})
		default:
			return wktNode{}, filterError(t.pos, fmt.Sprintf("expected a position or '(' in a geometry, found %q", t.text))
		}
		if c := p.peek(); c.kind == tOp && c.text == "," {
			p.next()
			continue
		}
		break
	}
	return n, p.expect(")")
}

// parseTime reads an RFC 3339 instant or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time or a date", s)
}

func isComparison(op string) bool {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}
