package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// fastFeature is what (*Parser).feature looks at in a geoFeature, as fastDecoder reads it.
type fastFeature struct {
	typ      string    // "type"; "" when absent or null
	id       fastValue // "id"
	hasGeom  bool      // "geometry" is an object (not absent, not null)
	geomType string    // "geometry"."type"
	pointOK  bool      // "geometry"."coordinates" decode as a []float64 of 2 or 3 numbers
	lon, lat float64
	props    []fastProp // the properties that name a field other than lon/lat/wkt
}

// valueKind is the kind of a JSON value as scalarText sees it.
type valueKind uint8

const (
	kindNull      valueKind = iota // null, or absent
	kindText                       // a string, number or boolean, rendered as text
	kindComposite                  // an object or an array
)

// fastValue is a JSON value reduced to what scalarText makes of it.
type fastValue struct {
	kind valueKind
	text string
}

// fastProp is one property that names a household field.
type fastProp struct {
	key *propKey
	val fastValue
}

// propKey is what a property key means; the decoder caches it by the key's raw bytes.
type propKey struct {
	key   string // unquoted
	name  string // "properties." + key, as the report names it
	field field
	use   bool // the key names a field other than lon, lat and wkt
}

// fastDecoder decodes one feature from b at i. It accepts only JSON that encoding/json's
// scanner accepts: when a method returns false, either the input ended (more) or the fast
// path does not take the bytes (a syntax error or something it does not follow), and i is
// meaningless. unsure says the feature is valid JSON that encoding/json must decode.
type fastDecoder struct {
	b      []byte
	i      int
	more   bool
	unsure bool
	f      *fastFeature
	keys   map[string]*propKey
	tmp    []byte
}

// peek returns the next byte that is not white space, without consuming it.
func (d *fastDecoder) peek() (byte, bool) {
	d.i = skipSpace(d.b, d.i)
	if d.i == len(d.b) {
		d.more = true
		return 0, false
	}
	return d.b[d.i], true
}

// feature decodes the object at i into f.
func (d *fastDecoder) feature() bool {
	*d.f = fastFeature{props: d.f.props[:0]}
	var seen uint8
	return d.object(func(key []byte, plain bool) bool {
		if d.unsure { // encoding/json decodes it: only check the syntax
			return d.skip(1)
		}
		switch d.member(key, plain, &seen, "type", "id", "geometry", "properties") {
		case 0:
			return d.text(&d.f.typ, "Feature")
		case 1:
			return d.value(&d.f.id, 1)
		case 2:
			return d.geometry()
		case 3:
			return d.properties()
		}
		return d.skip(1)
	})
}

// member returns the index in names of the struct field a key of a decoded object sets, or
// -1 for a key encoding/json ignores. A key the fast path cannot match the way encoding/json
// does — with escapes, equal to a name only when case is folded, or repeated — makes it
// unsure. (encoding/json matches a field by exact name, else by folded case, where the only
// non-ASCII runes to fold to ASCII are U+017F ſ and U+212A K.)
func (d *fastDecoder) member(key []byte, plain bool, seen *uint8, names ...string) int {
	for j, name := range names {
		if string(key) == name {
			bit := uint8(1) << j
			if *seen&bit != 0 {
				d.unsure = true
				return -1
			}
			*seen |= bit
			return j
		}
	}
	if !plain || bytes.Contains(key, []byte("\u017f")) || bytes.Contains(key, []byte("\u212a")) {
		d.unsure = true
		return -1
	}
	for _, name := range names {
		if len(key) == len(name) && strings.EqualFold(string(key), name) {
			d.unsure = true
			return -1
		}
	}
	return -1
}

// object reads an object, calling member for each key with i on the value (after the
// colon and white space); member must consume the value. plain says the key needed no
// unquoting.
func (d *fastDecoder) object(member func(key []byte, plain bool) bool) bool {
	c, empty, ok := d.open('}')
	if !ok || empty {
		return ok
	}
	for {
		if c != '"' {
			return false
		}
		key, plain, ok := d.str()
		if !ok {
			return false
		}
		if c, ok = d.peek(); !ok || c != ':' {
			return false
		}
		d.i++
		if _, ok = d.peek(); !ok {
			return false
		}
		if !member(key, plain) {
			return false
		}
		var more bool
		if c, more, ok = d.next('}'); !ok || !more {
			return ok
		}
	}
}

// open consumes the opening bracket at i; empty says the container closes at once (close
// consumed too), else c is the first byte of its first element.
func (d *fastDecoder) open(close byte) (c byte, empty, ok bool) {
	d.i++
	if c, ok = d.peek(); !ok {
		return 0, false, false
	}
	if c == close {
		d.i++
		return c, true, true
	}
	return c, false, true
}

// next consumes what follows an element of a container: close ends it (more is false), a
// comma leads to the next element, whose first byte is c.
func (d *fastDecoder) next(close byte) (c byte, more, ok bool) {
	if c, ok = d.peek(); !ok {
		return 0, false, false
	}
	switch c {
	case close:
		d.i++
		return c, false, true
	case ',':
		d.i++
		c, ok = d.peek()
		return c, ok, ok
	}
	return c, false, false
}

// geometry decodes the value of "geometry".
func (d *fastDecoder) geometry() bool {
	switch d.b[d.i] {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		d.unsure = true // a type error
		return d.skip(1)
	}
	d.f.hasGeom = true
	var seen uint8
	return d.object(func(key []byte, plain bool) bool {
		if d.unsure {
			return d.skip(2)
		}
		switch d.member(key, plain, &seen, "type", "coordinates") {
		case 0:
			return d.text(&d.f.geomType, "Point")
		case 1:
			return d.coordinates()
		}
		return d.skip(2)
	})
}

// coordinates decodes the value of "coordinates" the way json.Unmarshal into a []float64
// and the length check of (*Parser).feature see it: a null element is a zero, anything but
// a number or null fails, and so does a number that does not parse as a float64.
func (d *fastDecoder) coordinates() bool {
	d.f.pointOK = false
	if d.b[d.i] != '[' {
		return d.skip(2)
	}
	c, empty, ok := d.open(']')
	if !ok || empty {
		return ok
	}
	n, bad := 0, false
	var xy [2]float64
	for {
		switch {
		case c == 'n':
			if !d.literal("null") {
				return false
			}
		case c == '-' || '0' <= c && c <= '9':
			lit, ok := d.number()
			if !ok {
				return false
			}
			v, err := parseFloat(lit)
			bad = bad || err
			if n < 2 {
				xy[n] = v
			}
		default:
			bad = true
			if !d.skip(3) {
				return false
			}
		}
		n++
		var more bool
		if c, more, ok = d.next(']'); !ok {
			return false
		}
		if !more {
			d.f.pointOK = !bad && n >= 2 && n <= 3
			d.f.lon, d.f.lat = xy[0], xy[1]
			return true
		}
	}
}

// properties decodes the value of "properties", keeping the members that name a field.
func (d *fastDecoder) properties() bool {
	switch d.b[d.i] {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		d.unsure = true // a type error
		return d.skip(1)
	}
	return d.object(func(key []byte, plain bool) bool {
		if d.unsure {
			return d.skip(2)
		}
		k := d.propKey(key, plain)
		if !k.use {
			return d.skip(2)
		}
		var v fastValue
		if !d.value(&v, 2) {
			return false
		}
		for j := range d.f.props { // a repeated key: the last one wins, as in a map
			if d.f.props[j].key.key == k.key {
				d.f.props[j].val = v
				return true
			}
		}
		d.f.props = append(d.f.props, fastProp{key: k, val: v})
		return true
	})
}

// propKey returns what a property key means, from the cache when it can.
func (d *fastDecoder) propKey(raw []byte, plain bool) *propKey {
	if k, ok := d.keys[string(raw)]; ok {
		return k
	}
	var key string
	if plain {
		key = string(raw)
	} else {
		key = string(d.unquote(raw))
	}
	k := &propKey{key: key, name: "properties." + key}
	k.field, k.use = fieldOf(key)
	k.use = k.use && k.field != fLon && k.field != fLat && k.field != fWKT
	if d.keys == nil {
		d.keys = make(map[string]*propKey)
	}
	if len(d.keys) < maxKeyCache {
		d.keys[string(raw)] = k
	}
	return k
}

// value decodes any value as scalarText sees it.
func (d *fastDecoder) value(v *fastValue, depth int) bool {
	switch c := d.b[d.i]; {
	case c == '"':
		raw, plain, ok := d.str()
		if !ok {
			return false
		}
		v.kind, v.text = kindText, d.stringOf(raw, plain)
	case c == 't':
		v.kind, v.text = kindText, "true"
		return d.literal("true")
	case c == 'f':
		v.kind, v.text = kindText, "false"
		return d.literal("false")
	case c == 'n':
		v.kind, v.text = kindNull, ""
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		lit, ok := d.number()
		if !ok {
			return false
		}
		v.kind, v.text = kindText, string(lit)
	default:
		v.kind, v.text = kindComposite, ""
		return d.skip(depth)
	}
	return true
}

// text decodes a value bound for a Go string: a string, or null (which leaves it alone);
// anything else is a type error encoding/json reports. common is a likely value, kept
// without allocating.
func (d *fastDecoder) text(dst *string, common string) bool {
	switch d.b[d.i] {
	case '"':
		raw, plain, ok := d.str()
		if !ok {
			return false
		}
		if plain && string(raw) == common {
			*dst = common
		} else {
			*dst = d.stringOf(raw, plain)
		}
		return true
	case 'n':
		return d.literal("null")
	}
	d.unsure = true
	return d.skip(1)
}

// stringOf returns a string's value from its raw bytes.
func (d *fastDecoder) stringOf(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	return string(d.unquote(raw))
}

// skip reads any value at i, which must not be white space.
func (d *fastDecoder) skip(depth int) bool {
	switch c := d.b[d.i]; {
	case c == '"':
		_, _, ok := d.str()
		return ok
	case c == '{':
		if depth >= maxFastDepth {
			return false
		}
		return d.object(func([]byte, bool) bool { return d.skip(depth + 1) })
	case c == '[':
		if depth >= maxFastDepth {
			return false
		}
		return d.array(depth + 1)
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, ok := d.number()
		return ok
	}
	return false
}

// array skips an array.
func (d *fastDecoder) array(depth int) bool {
	_, empty, ok := d.open(']')
	if !ok || empty {
		return ok
	}
	for {
		if !d.skip(depth) {
			return false
		}
		if _, more, ok := d.next(']'); !ok || !more {
			return ok
		}
	}
}

// literal reads true, false or null.
func (d *fastDecoder) literal(lit string) bool {
	end := d.i + len(lit)
	if end > len(d.b) {
		if string(d.b[d.i:]) == lit[:len(d.b)-d.i] {
			d.more = true
		}
		return false
	}
	if string(d.b[d.i:end]) != lit {
		return false
	}
	d.i = end
	return true
}

// number reads a number and returns its text. A number that reaches the end of the buffer
// may go on: more.
func (d *fastDecoder) number() ([]byte, bool) {
	b, i := d.b, d.i
	if b[i] == '-' {
		i++
	}
	// at reports whether b[i] is a digit; at the end of b it sets more.
	at := func() bool {
		if i == len(b) {
			d.more = true
			return false
		}
		return '0' <= b[i] && b[i] <= '9'
	}
	digits := func() {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if !at() {
		return nil, false
	}
	if b[i] == '0' {
		i++
	} else {
		digits()
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !at() {
			return nil, false
		}
		digits()
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !at() {
			return nil, false
		}
		digits()
	}
	if i == len(b) {
		d.more = true
		return nil, false
	}
	lit := b[d.i:i]
	d.i = i
	return lit, true
}

// str reads a string at i and returns its raw bytes, without the quotes. plain says they
// are its value: no escapes, valid UTF-8.
func (d *fastDecoder) str() (raw []byte, plain bool, ok bool) {
	b := d.b
	start := d.i + 1
	i := start
	var high uint64 // the bytes seen or'ed together, to tell ASCII
	esc := false
	for {
		// Eight bytes at a time while none is a quote, a backslash or a control character.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if stop := specialBytes(x); stop != 0 {
				n := bits.TrailingZeros64(stop) / 8
				high |= x & (1<<(8*n) - 1)
				i += n
				break
			}
			high |= x
			i += 8
		}
		if i >= len(b) {
			d.more = true
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			raw = b[start:i]
			d.i = i + 1
			plain = !esc && (high&0x8080808080808080 == 0 || utf8.Valid(raw))
			return raw, plain, true
		case c == '\\':
			esc = true
			n, ok := escapeLen(b[i:])
			if !ok {
				d.more = n < 0
				return nil, false, false
			}
			i += n
		case c < ' ':
			return nil, false, false
		default:
			high |= uint64(c)
			i++
		}
	}
}

// specialBytes returns a word with the high bit set in the bytes of x that are '"', '\\' or
// below ' ' — exactly in the lowest of them, possibly also in later ones — and 0 when there
// are none (the usual SWAR zero-byte test, on x, x^'"' and x^'\\').
func specialBytes(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((x-ones*' ') & ^x | (q-ones) & ^q | (bs-ones) & ^bs) & highs
}

// escapeLen returns the length of the escape sequence at the start of b; ok false with n -1
// when b ends inside it, with n 0 when it is invalid.
func escapeLen(b []byte) (n int, ok bool) {
	if len(b) < 2 {
		return -1, false
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		for j := 2; j < 6; j++ {
			if j >= len(b) {
				return -1, false
			}
			if hexVal(b[j]) < 0 {
				return 0, false
			}
		}
		return 6, true
	}
	return 0, false
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// unquote returns the value of a string from its raw bytes (valid escapes, as str checked)
// the way encoding/json computes it: escapes decoded, a \u surrogate pair joined, a lone
// surrogate and every byte of invalid UTF-8 replaced by U+FFFD. The result is valid until
// the next call.
func (d *fastDecoder) unquote(raw []byte) []byte {
	out := d.tmp[:0]
	for r := 0; r < len(raw); {
		c := raw[r]
		switch {
		case c == '\\':
			r, out = unescape(raw, r, out)
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			r += size
			out = utf8.AppendRune(out, rr)
		}
	}
	d.tmp = out
	return out
}

// unescape appends the value of the escape at raw[r] and returns the index after it.
func unescape(raw []byte, r int, out []byte) (int, []byte) {
	switch c := raw[r+1]; c {
	case 'b':
		return r + 2, append(out, '\b')
	case 'f':
		return r + 2, append(out, '\f')
	case 'n':
		return r + 2, append(out, '\n')
	case 'r':
		return r + 2, append(out, '\r')
	case 't':
		return r + 2, append(out, '\t')
	case 'u':
	default: // " \ /
		return r + 2, append(out, c)
	}
	rr := u4(raw[r:])
	r += 6
	if utf16.IsSurrogate(rr) {
		if dec := utf16.DecodeRune(rr, u4(raw[r:])); dec != utf8.RuneError {
			return r + 6, utf8.AppendRune(out, dec)
		}
		rr = utf8.RuneError
	}
	return r, utf8.AppendRune(out, rr)
}

// u4 returns the value of the \uXXXX escape at the start of b, or -1 when there is none.
func u4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		v := hexVal(c)
		if v < 0 {
			return -1
		}
		r = r*16 + v
	}
	return r
}

// fastFeature turns a fast-decoded feature into a row, reporting what is wrong with it. It
// is (*Parser).feature for a fastFeature: the same checks in the same order.
func (p *Parser) fastFeature(index int, f *fastFeature) (Row, bool) {
	if f.typ != "Feature" {
		p.report.Add(index, "type", fmt.Sprintf(`a feature's "type" must be "Feature", not %q`, f.typ))
		return Row{}, false
	}
	rec := record{line: index, hasPoint: true}
	switch {
	case !f.hasGeom:
		p.report.Add(index, "geometry", "missing geometry")
		return Row{}, false
	case f.geomType != "Point":
		p.report.Add(index, "geometry", fmt.Sprintf("only Point geometries are accepted, got %q", f.geomType))
		return Row{}, false
	}
	if !f.pointOK {
		p.report.Add(index, "geometry", "a Point's coordinates must be [lon, lat]")
		return Row{}, false
	}
	rec.lon, rec.lat = f.lon, f.lat

	sortProps(f.props) // deterministic reports, in the order of the slow path's sorted keys
	for _, pr := range f.props {
		fld, name := pr.key.field, pr.key.name
		if rec.name[fld] != "" {
			p.report.Add(index, name, fmt.Sprintf("%s and %s both give %s", rec.name[fld], name, fld.name()))
			return Row{}, false
		}
		if pr.val.kind == kindComposite {
			p.report.Add(index, name, "must be a string, number or boolean")
			return Row{}, false
		}
		rec.text[fld], rec.name[fld] = strings.TrimSpace(pr.val.text), name
	}
	if rec.text[fExternalID] == "" && f.id.kind != kindNull {
		if f.id.kind == kindComposite {
			p.report.Add(index, "id", "a feature id must be a string or number")
			return Row{}, false
		}
		rec.text[fExternalID], rec.name[fExternalID] = strings.TrimSpace(f.id.text), "id"
	}
	if rec.name[fExternalID] == "" {
		rec.name[fExternalID] = "properties.external_id"
	}
	return p.finish(&rec)
}

// likelyID is the external id the feature probably has (only a hint: see idSet.touch).
func (f *fastFeature) likelyID() string {
	for _, pr := range f.props {
		if pr.key.field == fExternalID && pr.val.kind == kindText {
			return strings.TrimSpace(pr.val.text)
		}
	}
	return strings.TrimSpace(f.id.text)
}

// sortProps sorts properties by key: an insertion sort, as there are few.
func sortProps(ps []fastProp) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].key.key < ps[j-1].key.key; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// parseFloat is strconv.ParseFloat(string(lit), 64) for a JSON number, err meaning any
// error. It computes plain decimals of at most 15 digits and no exponent itself: both the
// digits and the power of ten are then exact float64s, and one division rounds correctly,
// as strconv does on its own exact path.
func parseFloat(lit []byte) (float64, bool) {
	var mant uint64
	digits, frac, dot := 0, 0, false
	for i, c := range lit {
		switch {
		case '0' <= c && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.':
			dot = true
		case c == '-' && i == 0:
		default:
			digits = 99 // an exponent
		}
	}
	if digits > 15 {
		v, err := strconv.ParseFloat(string(lit), 64)
		return v, err != nil
	}
	v := float64(mant)
	if frac > 0 {
		v /= math.Pow10(frac)
	}
	if lit[0] == '-' {
		v = -v
	}
	return v, false
}
