package publish

import (
	"encoding/binary"
	"unicode/utf8"
)

// The envelope is read on every delivery, from bodies that are mostly one
// long string the receiver never looks at (an output URI, an error message,
// metadata). encoding/json scans such a body four times (validating, then
// decoding, each for the top level and again for data) at a few ns a byte,
// which made ParseEnvelope the largest cost of a delivery. parseEnvelopeFast
// reads the common shape in one validating pass at about a byte a ns, and
// gives up, leaving the body to the encoding/json path, on anything it does
// not handle exactly as that path would: a string with an escape or invalid
// UTF-8, a body that is not an object, deep nesting.

// maxFastDepth bounds the recursion of the fast scan; deeper bodies take
// the encoding/json path, which has its own limit.
const maxFastDepth = 64

// fastFields are the raw values of the members the envelope reads, each the
// last occurrence, as a map[string]json.RawMessage would hold them.
type fastFields struct {
	typ, version, timestamp, data, metadata []byte
}

// parseEnvelopeFast returns the envelope of body and true, or false when
// body is outside what it reads exactly like parseEnvelopeJSON.
func parseEnvelopeFast(body []byte) (Envelope, bool) {
	s := scanner{b: body}
	var f fastFields
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return Envelope{}, false
	}
	ok := s.object(func(key, val []byte) {
		switch string(key) {
		case "type":
			f.typ = val
		case "version":
			f.version = val
		case "timestamp":
			f.timestamp = val
		case "data":
			f.data = val
		case "user_metadata":
			f.metadata = val
		}
	})
	s.space()
	if !ok || s.i != len(s.b) {
		return Envelope{}, false
	}

	// From here on every value is valid JSON whose strings hold no escape
	// and are valid UTF-8: a string's value is its bytes between the quotes.
	e := Envelope{Type: UnknownType}
	if t, ok := rawScalar(f.typ, false); ok && t != "" {
		e.Type = t
		if canon, ok := aliases[t]; ok {
			e.Type, e.OriginalType = canon, t
		}
	}
	e.Version, _ = rawScalar(f.version, false)
	e.Timestamp, _ = rawScalar(f.timestamp, false)
	var id, dataMetadata []byte
	if len(f.data) > 0 && f.data[0] == '{' {
		members(f.data, func(key, val []byte) {
			switch string(key) {
			case "id":
				id = val
			case "user_metadata":
				dataMetadata = val
			}
		})
	}
	e.ResourceID, _ = rawScalar(id, true)
	for _, raw := range [][]byte{dataMetadata, f.metadata} {
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		// Like a map, the last occurrence of a key is the one that counts.
		last := map[string][]byte{}
		members(raw, func(key, val []byte) { last[string(key)] = val })
		for k, v := range last {
			if !metaKey(k) {
				continue
			}
			if s, ok := rawScalar(v, true); ok {
				if e.Metadata == nil {
					e.Metadata = make(map[string]string, len(last))
				}
				e.Metadata[k] = s
			}
		}
	}
	return e, true
}

// rawScalar is scalar for a value the fast scan validated.
func rawScalar(raw []byte, numbers bool) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	switch c := raw[0]; {
	case c == '"':
		s = string(raw[1 : len(raw)-1])
	case numbers && (c == '-' || c >= '0' && c <= '9'):
		s = string(raw)
	default:
		return "", false
	}
	if len(s) > MaxAttributeValue {
		return "", false
	}
	return s, true
}

// members calls f for each member of an object the fast scan validated.
func members(obj []byte, f func(key, val []byte)) {
	s := scanner{b: obj}
	s.object(f)
}

// scanner validates JSON by recursive descent. Every method returns false
// on invalid input and on valid input outside the fast path's subset.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// object scans the object at s.i, calling f (when not nil) with each key's
// bytes between the quotes and the raw value.
func (s *scanner) object(f func(key, val []byte)) bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.i++ // '{'
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		start := s.i
		if !s.value() {
			return false
		}
		if f != nil {
			f(key, s.b[start:s.i])
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array() bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.i++ // '['
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// str scans the string at s.i and returns its bytes between the quotes. An
// escape, a control character or invalid UTF-8 ends the fast path.
func (s *scanner) str() ([]byte, bool) {
	ascii := true
	b := s.b
	j := s.i + 1
	for {
		// Eight bytes at a time while none is special: the long strings
		// of a body are where the time goes.
		for j+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		if j >= len(b) {
			return nil, false
		}
		switch c := b[j]; {
		case c == '"':
			v := b[s.i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		j++
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports whether any of the eight bytes of x may be a quote, a
// backslash, a control character or not ASCII, with the classic SWAR tests:
// (v - n*ones) &^ v has the high bit of a byte set when that byte of v is
// below n (n <= 0x80). A borrow can flag a byte above one that is truly
// below n, never miss one, so a false "special" only costs the byte-wise
// path.
func special(x uint64) bool {
	below := func(v, n uint64) uint64 { return (v - n*ones) &^ v }
	return (below(x, 0x20)|below(x^'"'*ones, 1)|below(x^'\\'*ones, 1)|x)&highs != 0
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return true
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}
