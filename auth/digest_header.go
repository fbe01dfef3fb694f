package auth

import (
	"errors"
	"strings"
)

// digestParams are the auth-params of a Digest Authorization header that
// verification uses. Parameters RFC 7616 defines but flexd does not use
// (opaque) and unknown ones are ignored, as the RFC requires.
type digestParams struct {
	username, realm, nonce, uri, response string
	algorithm, qop, nc, cnonce, userhash  string
	hasUsernameStar                       bool
}

// Limits on what the parser will look at, so hostile headers cost little.
const (
	maxAuthHeader = 4096
	maxAuthParams = 32
)

var errMalformed = errors.New("auth: malformed Authorization header")

// parseDigest parses an Authorization header value with the Digest scheme
// (RFC 7235 §2.1 / RFC 7616 §3.4): auth-params in any order, tokens or
// quoted-strings with backslash escapes, optional whitespace around '=' and
// ',', empty list elements. A known parameter given twice is an error (each
// directive appears at most once), so are control characters and a missing
// scheme. It never panics; the fuzz target holds it to that.
func parseDigest(h string) (digestParams, error) {
	var p digestParams
	if len(h) > maxAuthHeader {
		return p, errMalformed
	}
	s := trimOWS(h)
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if i == 0 || !strings.EqualFold(s[:i], "Digest") {
		return p, errMalformed
	}
	if i < len(s) && s[i] != ' ' && s[i] != '\t' {
		return p, errMalformed
	}
	var seen uint16 // the known parameters met so far
	for n := 0; ; n++ {
		// Skip whitespace and empty list elements.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			break
		}
		if n == maxAuthParams {
			return p, errMalformed
		}
		name, val, next, err := readParam(s, i)
		if err != nil {
			return p, err
		}
		i = next
		if err := p.set(name, val, &seen); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readParam reads the auth-param name=value starting at s[i], with the
// value a token or a quoted-string, and returns the lowercased name, the
// value and the index of the ',' or end that follows it.
func readParam(s string, i int) (name, val string, next int, err error) {
	start := i
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if i == start {
		return "", "", 0, errMalformed
	}
	name = strings.ToLower(s[start:i])
	i = skipOWS(s, i)
	if i == len(s) || s[i] != '=' {
		return "", "", 0, errMalformed
	}
	i = skipOWS(s, i+1)
	if i < len(s) && s[i] == '"' {
		val, i, err = readQuoted(s, i)
		if err != nil {
			return "", "", 0, err
		}
	} else {
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		if i == start {
			return "", "", 0, errMalformed
		}
		val = s[start:i]
	}
	i = skipOWS(s, i)
	if i < len(s) && s[i] != ',' {
		return "", "", 0, errMalformed
	}
	return name, val, i, nil
}

// set records the parameter name's value, ignoring unknown names. seen
// holds a bit per known parameter met so far: one given twice is an error.
func (p *digestParams) set(name, val string, seen *uint16) error {
	var dst *string
	var bit uint16
	switch name {
	case "username":
		dst, bit = &p.username, 1<<0
	case "username*":
		p.hasUsernameStar, bit = true, 1<<1
	case "realm":
		dst, bit = &p.realm, 1<<2
	case "nonce":
		dst, bit = &p.nonce, 1<<3
	case "uri":
		dst, bit = &p.uri, 1<<4
	case "response":
		dst, bit = &p.response, 1<<5
	case "algorithm":
		dst, bit = &p.algorithm, 1<<6
	case "qop":
		dst, bit = &p.qop, 1<<7
	case "nc":
		dst, bit = &p.nc, 1<<8
	case "cnonce":
		dst, bit = &p.cnonce, 1<<9
	case "userhash":
		dst, bit = &p.userhash, 1<<10
	}
	if *seen&bit != 0 {
		return errMalformed
	}
	*seen |= bit
	if dst != nil {
		*dst = val
	}
	return nil
}

// readQuoted reads the quoted-string starting at s[i] == '"' and returns its
// unescaped content and the index just past the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	i++ // opening quote
	var b strings.Builder
	plain := i // start of the current run without escapes
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if b.Len() == 0 {
				return s[plain:i], i + 1, nil
			}
			b.WriteString(s[plain:i])
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 == len(s) || !isQuotedPairChar(s[i+1]) {
				return "", 0, errMalformed
			}
			b.WriteString(s[plain:i])
			b.WriteByte(s[i+1])
			i += 2
			plain = i
		case c == '\t' || c >= 0x20 && c != 0x7f:
			i++
		default:
			return "", 0, errMalformed
		}
	}
	return "", 0, errMalformed // unterminated
}

func isQuotedPairChar(c byte) bool { return c == '\t' || c >= 0x20 && c != 0x7f }

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func trimOWS(s string) string { return strings.Trim(s, " \t") }

// isTchar reports whether c may appear in an RFC 9110 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
