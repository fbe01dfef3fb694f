package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/credential"
)

// BenchmarkDigestVerify measures one successful MD5 verification: parse,
// nonce MAC, store lookup, two MD5s and the replay check. Requests are signed
// in batches outside the timer, each with a fresh nc, as replays are refused.
func BenchmarkDigestVerify(b *testing.B) {
	f := newDigestFixture(b)
	f.counter = auth.NewMemoryNonceCounter(1<<24, f.clock)
	f.verifier = f.newVerifier(b, f.key)
	c := rfcClient{username: publicKey, password: privateKey}
	const target = "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/flexClusters/flexA/backup/restoreJobs"
	const batch = 1024
	reqs := make([]*http.Request, batch)
	var ch map[string]string
	nc := uint32(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			ch = challenge(b, f.verifier)
			cnonce := newCnonce()
			for j := range reqs {
				nc++
				r := httptest.NewRequest("GET", target, nil)
				r.Header.Set("Authorization", c.authorization(ch, "GET", target, nc, cnonce))
				reqs[j] = r
			}
			b.StartTimer()
		}
		if _, err := f.verifier.Verify(reqs[i%batch]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBearerVerify measures one successful bearer check against the
// in-memory store: header parse, SHA-256, lookup.
func BenchmarkBearerVerify(b *testing.B) {
	clock := newClock()
	tokens := auth.NewMemoryTokenStore(clock)
	tok := credential.NewAccessToken()
	if err := tokens.CreateToken(b.Context(), auth.Token{Digest: credential.TokenDigest(tok), Subject: "sa", ExpiresAt: clock.Now().Add(auth.DefaultTokenTTL)}); err != nil {
		b.Fatal(err)
	}
	v := auth.NewBearerVerifier(tokens, clock)
	r := httptest.NewRequest("GET", "/api/atlas/v2/groups", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLimiterAllow is one token endpoint request's limiter cost, over
// many keys from many goroutines.
func BenchmarkLimiterAllow(b *testing.B) {
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 50, Window: time.Minute})
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("mdb_sa_id_%024d\x00192.0.2.%d", i, i%250)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}
