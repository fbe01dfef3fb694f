package mongodump

import (
	"testing"
	"time"
)

// FuzzParseMetadata: whatever a .metadata.json holds, parsing it ends
// (corrupt artifacts once hung a restore here) and never panics.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"","collectionName":"c","type":"collection","options":{}}`))
	f.Add([]byte(`{"indexes":[],"uuid":{","collectionName":"c","options":{}}`))
	f.Add([]byte(`{"options":{"capped":true,"size":{"$numberLong":"4096"}},"indexes":[]}`))
	f.Add([]byte(`{"unknown":{"a":[{"b":{"$date":{"$numberLong":"0"}}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			parseMetadata(b)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // not a speed check: a loop never ends
			t.Fatalf("parseMetadata(%q) did not return", b)
		}
	})
}
