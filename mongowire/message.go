package mongowire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Opcodes flexd reads; others are answered with an error.
const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013
)

// OP_MSG flag bits.
const (
	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1
)

// maxMessageSize is MongoDB's maxMessageSizeBytes, which hello advertises.
const maxMessageSize = 48_000_000

var errBadMessage = errors.New("mongowire: malformed message")

// message is one wire protocol message, header included, as read.
type message []byte

func (m message) requestID() int32 { return int32(binary.LittleEndian.Uint32(m[4:])) }
func (m message) opCode() int32    { return int32(binary.LittleEndian.Uint32(m[12:])) }

// flags returns an OP_MSG's flag bits.
func (m message) flags() uint32 {
	if m.opCode() != opMsg || len(m) < 20 {
		return 0
	}
	return binary.LittleEndian.Uint32(m[16:])
}

// readMessage reads one message into buf (grown as needed).
func readMessage(r *bufio.Reader, buf []byte) (message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.LittleEndian.Uint32(hdr[:])))
	if n < 16 || n > maxMessageSize {
		return nil, fmt.Errorf("%w: length %d", errBadMessage, n)
	}
	// The buffer grows as bytes arrive, not as the header claims: a
	// client that announces 48 MB and sends 16 bytes holds 16 bytes.
	buf = append(buf[:0], hdr[:]...)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), max(len(buf), 64<<10)))
		}
		k, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return message(buf), nil
}

// section1 is an OP_MSG document sequence (kind 1): insert's "documents",
// update's "updates" and so on.
type section1 struct {
	id   string
	docs []bson.Raw
}

// opMsgBody returns an OP_MSG's body document (its kind 0 section) and its
// document sequences.
func (m message) opMsgBody() (bson.Raw, []section1, error) {
	if len(m) < 21 {
		return nil, nil, errBadMessage
	}
	end := len(m)
	if m.flags()&flagChecksumPresent != 0 {
		end -= 4
	}
	var body bson.Raw
	var seqs []section1
	for p := 20; p < end; {
		kind := m[p]
		p++
		switch kind {
		case 0:
			if body != nil { // FerretDB refuses a second body; so does the front
				return nil, nil, fmt.Errorf("%w: two body sections", errBadMessage)
			}
			d, err := rawDoc(m[p:end])
			if err != nil {
				return nil, nil, err
			}
			body = d
			p += len(d)
		case 1:
			if end-p < 4 {
				return nil, nil, errBadMessage
			}
			size := int(int32(binary.LittleEndian.Uint32(m[p:])))
			if size < 5 || p+size > end {
				return nil, nil, errBadMessage
			}
			sec := m[p+4 : p+size]
			i := indexByte(sec, 0)
			if i < 0 {
				return nil, nil, errBadMessage
			}
			s := section1{id: string(sec[:i])}
			for q := i + 1; q < len(sec); {
				d, err := rawDoc(sec[q:])
				if err != nil {
					return nil, nil, err
				}
				s.docs = append(s.docs, d)
				q += len(d)
			}
			seqs = append(seqs, s)
			p += size
		default:
			return nil, nil, fmt.Errorf("%w: section kind %d", errBadMessage, kind)
		}
	}
	if body == nil {
		return nil, nil, fmt.Errorf("%w: no body", errBadMessage)
	}
	return body, seqs, nil
}

// duplicateKey returns a key the document has twice, "" if none. The wire
// front authorizes what it reads of a command ($db, the collection), and
// FerretDB must not read another value of the same field; MongoDB refuses
// such a command too (40413, "is a duplicate field").
func duplicateKey(d bson.Raw) string {
	elems, err := d.Elements()
	if err != nil {
		return ""
	}
	if len(elems) <= 16 {
		for i := range elems {
			for j := i + 1; j < len(elems); j++ {
				if elems[i].Key() == elems[j].Key() {
					return elems[i].Key()
				}
			}
		}
		return ""
	}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems {
		k := e.Key()
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}

// opQueryDoc returns an OP_QUERY's full collection name and query document.
func (m message) opQueryDoc() (string, bson.Raw, error) {
	if len(m) < 20 {
		return "", nil, errBadMessage
	}
	rest := m[20:]
	i := indexByte(rest, 0)
	if i < 0 || len(rest) < i+9 {
		return "", nil, errBadMessage
	}
	d, err := rawDoc(rest[i+9:])
	return string(rest[:i]), d, err
}

func rawDoc(b []byte) (bson.Raw, error) {
	if len(b) < 5 {
		return nil, errBadMessage
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) {
		return nil, errBadMessage
	}
	return bson.Raw(b[:n]), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// newOpMsg builds an OP_MSG answering responseTo with body and sequences.
func newOpMsg(requestID, responseTo int32, body []byte, seqs []section1) message {
	n := 16 + 4 + 1 + len(body)
	for _, s := range seqs {
		n += 1 + 4 + len(s.id) + 1
		for _, d := range s.docs {
			n += len(d)
		}
	}
	b := make([]byte, 0, n)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(requestID))
	b = binary.LittleEndian.AppendUint32(b, uint32(responseTo))
	b = binary.LittleEndian.AppendUint32(b, opMsg)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, 0)
	b = append(b, body...)
	for _, s := range seqs {
		size := 4 + len(s.id) + 1
		for _, d := range s.docs {
			size += len(d)
		}
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint32(b, uint32(size))
		b = append(b, s.id...)
		b = append(b, 0)
		for _, d := range s.docs {
			b = append(b, d...)
		}
	}
	return b
}

// newOpReply builds the OP_REPLY answering a legacy OP_QUERY.
func newOpReply(requestID, responseTo int32, doc []byte) message {
	n := 16 + 20 + len(doc)
	b := make([]byte, 0, n)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(requestID))
	b = binary.LittleEndian.AppendUint32(b, uint32(responseTo))
	b = binary.LittleEndian.AppendUint32(b, opReply)
	b = binary.LittleEndian.AppendUint32(b, 0) // responseFlags
	b = binary.LittleEndian.AppendUint64(b, 0) // cursorID
	b = binary.LittleEndian.AppendUint32(b, 0) // startingFrom
	b = binary.LittleEndian.AppendUint32(b, 1) // numberReturned
	return append(b, doc...)
}
