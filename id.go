package flexd

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// ids hands out ObjectId-shaped identifiers: 4 bytes of seconds, 5 bytes
// fixed per process, 3 bytes of a counter that restarts every second. Ids
// from one process therefore sort strictly by creation, which is what "newest
// first" listing and page stability rely on.
var ids struct {
	sync.Mutex
	process [5]byte
	sec     uint32
	count   uint32
}

func init() { _, _ = rand.Read(ids.process[:]) }

// NewID returns a 24-hex-digit identifier created at t (or later, if t lies
// before the last id this process made).
func NewID(t time.Time) string {
	ids.Lock()
	sec := uint32(t.Unix())
	if sec < ids.sec {
		sec = ids.sec // never go backwards: keeps ids monotonic
	}
	if sec == ids.sec {
		ids.count++
		if ids.count >= 1<<24 {
			sec, ids.count = sec+1, 0
		}
	} else {
		ids.count = 0
	}
	ids.sec = sec
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], sec)
	copy(b[4:9], ids.process[:])
	c := ids.count
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	ids.Unlock()
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an Atlas id (^([a-f0-9]{24})$).
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
