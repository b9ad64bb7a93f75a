package ingest

// The fast GeoJSON path.
//
// Decoding each feature with encoding/json into a geoFeature (reflection, a map per feature,
// an any per property) costs most of a large import. Instead a featureScanner reads the
// features array itself: fastDecoder checks each feature's JSON exactly as strictly as
// encoding/json's scanner and decodes the few members (*Parser).feature looks at into a
// fastFeature, which (*Parser).fastFeature turns into a row or a report entry the way
// (*Parser).feature does for a geoFeature.
//
// The fast path must be indistinguishable from the decoder it replaces, down to the byte
// offsets in error messages, so it only takes what it is sure about:
//
//   - A feature that is valid JSON but unusual (a member key in another case or with escapes,
//     a repeated member, a member of the wrong JSON type, …) is decoded by encoding/json from
//     its bytes, as before ("fallback").
//   - Anything else (a syntax error, the end of the input inside a feature, an array element
//     that is not an object, the ']' that closes the array) is left to a json.Decoder resumed
//     at the last feature boundary ("hand-over"), which reads the rest of the file with the
//     code of the slow path. resumeDecoder builds that decoder so that it stands exactly
//     where the first decoder would have stood, including its two offset counters: the input
//     offset (Decoder.InputOffset) and the count of bytes its scanner has seen (which
//     SyntaxError.Offset reports in token mode, and which is not a file offset).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	// maxHead is how much of a file's start (everything before the features) is kept to
	// count what the first decoder scanned; a longer head disables the fast path.
	maxHead = 4 << 20
	// scanBufSize is the scanner's initial buffer; it grows to hold the largest feature.
	scanBufSize = 256 << 10
	// maxFastDepth is the nesting the fast decoder follows; deeper features are handed over.
	maxFastDepth = 64
	// maxKeyCache bounds the parser's cache of property keys.
	maxKeyCache = 1024
	// maxPadRun bounds each run of padding spaces resumeDecoder feeds a decoder.
	maxPadRun = 32 << 10
	// batchSize is how many buffered features the scanner decodes ahead.
	batchSize = 64
)

// recordingReader keeps the bytes the first decoder reads, up to limit, so that the head of
// the file can be replayed once the features array is found.
type recordingReader struct {
	r        io.Reader
	limit    int
	buf      []byte
	overflow bool
	off      bool // recording stopped
}

func (rr *recordingReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if !rr.off && !rr.overflow {
		if len(rr.buf)+n > rr.limit {
			rr.overflow, rr.buf = true, nil
		} else {
			rr.buf = append(rr.buf, p[:n]...)
		}
	}
	return n, err
}

// featureScanner returns a scanner for the features array dec has just opened, or nil when
// the fast path cannot take over (no features array, a head too long to replay). It stops
// the recording either way.
func (rr *recordingReader) featureScanner(dec *json.Decoder) *featureScanner {
	rr.off = true
	defer func() { rr.buf = nil }()
	in := dec.InputOffset()
	if rr.overflow || in > int64(len(rr.buf)) {
		return nil
	}
	head := rr.buf[:in]
	sb, ok := headScanBytes(head)
	if !ok {
		return nil
	}
	buf := make([]byte, len(rr.buf)-int(in), max(scanBufSize, 2*(len(rr.buf)-int(in))))
	copy(buf, rr.buf[in:])
	return &featureScanner{r: rr.r, buf: buf, off: in, sb: sb, first: true}
}

// headScanBytes replays the head of a file — everything up to and including the '[' of its
// features array — through a fresh decoder and returns how many bytes that decoder's scanner
// has counted at the '[' (the base of SyntaxError offsets). It makes the scanner fail on the
// first byte after the head, so the count comes from encoding/json itself.
func headScanBytes(head []byte) (int64, bool) {
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(head), strings.NewReader("!")))
	dec.UseNumber()
	st := &jsonState{dec: dec}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, false
	}
	if err := st.advance(); err != nil || !st.inFeatures || dec.InputOffset() != int64(len(head)) {
		return 0, false
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := dec.Decode(&raw); !errors.As(err, &se) || !strings.HasPrefix(se.Error(), "invalid character '!'") {
		return 0, false
	}
	return se.Offset - 1, true
}

// featureScanner reads the features array from its buffer and its reader.
//
// pos is always at a feature boundary: just after the array's '[' (first) or just after the
// last feature taken. off and sb are, for that boundary, the input offset and the scanner's
// byte count the first decoder would have there.
//
// The scanner decodes up to batchSize features ahead, but only from bytes it already has:
// it reads only when it has nothing left to hand out, as the decoder it replaces does.
type featureScanner struct {
	r        io.Reader
	err      error // the reader's first error, io.EOF at the end
	buf      []byte
	pos      int
	off      int64 // input offset of buf[0]
	sb       int64
	first    bool
	dec      fastDecoder
	queue    []taken // decoded ahead; queue[next:] are still to hand out
	next     int
	gate     gate // while an element does not fit in the buffer
	fallback fallbackDecoder
}

// gate follows the brackets of an element that does not fit in the buffer as more of it is
// read, so that it is decoded again only once it may be complete — when its brackets close —
// or once the buffer has doubled since the last attempt (which finds a syntax error soon
// enough); decoding it again after every read would take time quadratic in its size. For
// JSON that is valid so far the brackets close exactly where the element ends.
type gate struct {
	at       int // buf[:at] has been followed (buf starts with the element)
	depth    int
	str, esc bool
	tried    int // len(buf) at the last attempt
}

// ready follows b from where it stopped and says whether to decode the element again.
func (g *gate) ready(b []byte) bool {
	for ; g.at < len(b); g.at++ {
		c := b[g.at]
		switch {
		case g.esc:
			g.esc = false
		case g.str:
			g.esc = c == '\\'
			g.str = c != '"'
		case c == '"':
			g.str = true
		case c == '{' || c == '[':
			g.depth++
		case c == '}' || c == ']':
			g.depth--
			if g.depth <= 0 {
				g.at++
				return true
			}
		}
	}
	return len(b) >= 2*g.tried
}

// taken is an array element the scanner has read.
type taken struct {
	step step
	f    fastFeature // stepFast
	raw  []byte      // stepFallback; valid until the queue is refilled
}

// step is what the scanner found at the boundary.
type step uint8

const (
	stepFast     step = iota // a feature fastDecoder decoded: see taken.f
	stepFallback             // a valid feature for encoding/json to decode: see raw
	stepHandOver             // anything else, for a resumed decoder
)

// take returns the next array element. When the queue is empty it decodes ahead, and
// touches the slots of seen the new ids will be looked up in (see idSet.touch).
func (s *featureScanner) take(seen *idSet) *taken {
	if s.next == len(s.queue) {
		s.decodeAhead()
		for i := range s.queue {
			if s.queue[i].step == stepFast {
				seen.touch(s.queue[i].f.likelyID())
			}
		}
	}
	s.next++
	return &s.queue[s.next-1]
}

// decodeAhead refills the queue with the elements the buffer holds, up to batchSize of them,
// or a stepHandOver; it reads only for the first one.
func (s *featureScanner) decodeAhead() {
	s.queue, s.next = s.queue[:0], 0
	for len(s.queue) < batchSize {
		if len(s.queue) < cap(s.queue) {
			s.queue = s.queue[:len(s.queue)+1]
		} else {
			s.queue = append(s.queue, taken{})
		}
		t := &s.queue[len(s.queue)-1]
		s.dec.f = &t.f
		st, raw, more := s.try()
		switch {
		case !more:
			t.step, t.raw = st, raw
			if st == stepHandOver {
				return
			}
		case len(s.queue) > 1:
			s.queue = s.queue[:len(s.queue)-1]
			return
		case s.err != nil:
			t.step = stepHandOver
			return
		default:
			s.queue = s.queue[:0]
			s.gate.tried = len(s.buf) - s.pos
			s.fill()
			for s.err == nil && !s.gate.ready(s.buf) {
				s.fill()
			}
		}
	}
}

// try reads the next element from the buffer; more says the buffer ends too early.
func (s *featureScanner) try() (st step, raw []byte, more bool) {
	b := s.buf
	i := skipSpace(b, s.pos)
	if !s.first {
		if i == len(b) {
			return 0, nil, true
		}
		if b[i] != ',' {
			return stepHandOver, nil, false
		}
		i++
	}
	counted := i // the decoder scans from after the comma, or from the first element
	i = skipSpace(b, i)
	if i == len(b) {
		return 0, nil, true
	}
	if b[i] != '{' {
		return stepHandOver, nil, false
	}
	if s.first {
		counted = i
	}
	d := &s.dec
	d.b, d.i, d.more, d.unsure = b, i, false, false
	if !d.feature() {
		if d.more {
			return 0, nil, true
		}
		return stepHandOver, nil, false
	}
	s.sb += int64(d.i - counted)
	s.pos, s.first, s.gate = d.i, false, gate{}
	if d.unsure {
		return stepFallback, b[i:d.i], false
	}
	return stepFast, nil, false
}

// fill moves the unread bytes to the front of the buffer, grows it when it is full, and
// reads into it once (more than once only while the reader returns nothing and no error).
func (s *featureScanner) fill() {
	if s.pos > 0 {
		s.gate = gate{}
		n := copy(s.buf, s.buf[s.pos:])
		s.buf = s.buf[:n]
		s.off += int64(s.pos)
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) {
		nb := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(nb, s.buf)
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.err = io.ErrNoProgress
}

// rest is the input from the boundary on: the buffered bytes, then the reader (or its error).
func (s *featureScanner) rest() io.Reader {
	tail := s.r
	if s.err != nil {
		tail = errReader{s.err}
	}
	return io.MultiReader(bytes.NewReader(s.buf[s.pos:]), tail)
}

// errReader always fails with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// nextFast reads features with the scanner until one makes a row. When the scanner hands
// over, the state gets a resumed decoder and nextFast returns with ok false and no error.
func (st *jsonState) nextFast(p *Parser) (Row, bool, error) {
	s := st.fast
	for {
		t := s.take(&p.seen)
		switch t.step {
		case stepFast:
			st.index++
			if row, ok := p.fastFeature(st.index, &t.f); ok {
				return row, true, nil
			}
		case stepFallback:
			st.index++
			var f geoFeature
			err := s.fallback.decode(t.raw, &f)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				p.reportTypeError(st.index, te)
				continue
			}
			if err != nil { // cannot happen: the scanner checked the syntax
				return Row{}, false, fmt.Errorf("ingest: internal error: feature %d: %w", st.index, err)
			}
			if row, ok := p.feature(st.index, &f); ok {
				return row, true, nil
			}
		default:
			dec, base, err := resumeDecoder(s.rest(), s.off+int64(s.pos), s.sb, !s.first)
			if err != nil {
				return Row{}, false, err
			}
			st.dec, st.base, st.fast = dec, base, nil
			return Row{}, false, nil
		}
	}
}

// fallbackDecoder decodes features with encoding/json, as the slow path does: a
// json.Decoder (numbers as json.Number) fed one feature at a time, so that it is made once.
type fallbackDecoder struct {
	dec  *json.Decoder
	feed feedReader
}

// decode decodes raw, one complete JSON value, into f.
func (fd *fallbackDecoder) decode(raw []byte, f *geoFeature) error {
	if fd.dec == nil {
		fd.dec = json.NewDecoder(&fd.feed)
		fd.dec.UseNumber()
	}
	fd.feed.b = raw
	err := fd.dec.Decode(f)
	if len(fd.feed.b) > 0 || err != nil && !isTypeError(err) {
		fd.dec = nil // not left at the end of raw: start afresh next time
	}
	return err
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// feedReader reads b, then reports the end of its input until b is set again.
type feedReader struct{ b []byte }

func (r *feedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// resumeDecoder returns a decoder that reads rest as if it were the first decoder standing
// at a boundary of the features array: input offset in, sb bytes scanned, with a feature
// just read (afterElement) or just after the '['. It also returns the base to add to the
// new decoder's offsets.
//
// The decoder first reads a made-up prefix, {"":[ or {"":[{} , which leaves it in the same
// token state as the first decoder. Its two counters must then differ from the first
// decoder's by one and the same base; as the scanner counts the key "" and the element {},
// but not the delimiters, the prefix is padded with as many more unscanned bytes as the
// first decoder had skipped: spaces before the prefix and empty arrays [ ] after {}, each
// holding at most maxPadRun spaces.
func resumeDecoder(rest io.Reader, in, sb int64, afterElement bool) (*json.Decoder, int64, error) {
	head, headScanned := `{"":[`, int64(2)
	if afterElement {
		head, headScanned = `{"":[{}`, 4
	}
	pad := (in - sb) - (int64(len(head)) - headScanned)
	if pad < 0 {
		return nil, 0, fmt.Errorf("ingest: internal error: cannot resume GeoJSON at offset %d (scanned %d)", in, sb)
	}
	lead, elems, last := pad, int64(0), int64(-1)
	if afterElement {
		const unit = maxPadRun + 3 // ,[ spaces ]
		elems, lead = pad/unit, pad%unit
		if lead >= 3 {
			last, lead = lead-3, 0
		}
	}
	prefix := []io.Reader{&spaceReader{n: lead}, strings.NewReader(head), &padArrays{n: elems, spaces: maxPadRun}}
	prefixLen := lead + int64(len(head)) + elems*(maxPadRun+3)
	if last >= 0 {
		prefix = append(prefix, &padArrays{n: 1, spaces: last})
		prefixLen += last + 3
	}
	dec := json.NewDecoder(io.MultiReader(append(prefix, rest)...))
	dec.UseNumber()
	if err := drivePrefix(dec, afterElement, elems+btoi(last >= 0)); err != nil || dec.InputOffset() != prefixLen {
		return nil, 0, fmt.Errorf("ingest: internal error: cannot resume GeoJSON at offset %d: %v", in, err)
	}
	return dec, in - prefixLen, nil
}

// drivePrefix reads the prefix resumeDecoder made up.
func drivePrefix(dec *json.Decoder, afterElement bool, arrays int64) error {
	want := func(tok json.Token) error {
		got, err := dec.Token()
		if err != nil || got != tok {
			return fmt.Errorf("got %v (%v), want %v", got, err, tok)
		}
		return nil
	}
	for _, tok := range []json.Token{json.Delim('{'), "", json.Delim('[')} {
		if err := want(tok); err != nil {
			return err
		}
	}
	if !afterElement {
		return nil
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	for range arrays {
		if err := want(json.Delim('[')); err != nil {
			return err
		}
		if err := want(json.Delim(']')); err != nil {
			return err
		}
	}
	return nil
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// spaceReader reads n spaces.
type spaceReader struct{ n int64 }

func (r *spaceReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range k {
		p[i] = ' '
	}
	r.n -= k
	return int(k), nil
}

// padArrays reads n times ",[" + spaces spaces + "]".
type padArrays struct {
	n, spaces int64
	at        int64 // position in the whole
}

func (r *padArrays) Read(p []byte) (int, error) {
	unit := r.spaces + 3
	total := r.n * unit
	if r.at == total {
		return 0, io.EOF
	}
	k := min(int64(len(p)), total-r.at)
	for i := range k {
		switch j := (r.at + i) % unit; j {
		case 0:
			p[i] = ','
		case 1:
			p[i] = '['
		case unit - 1:
			p[i] = ']'
		default:
			p[i] = ' '
		}
	}
	r.at += k
	return int(k), nil
}

// skipSpace returns the index of the first byte at or after i that is not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
