package dataplane_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/dataplane"
)

// BenchmarkAuthorizedFrontInterleaved is the per-command cost of
// authentication and authorization: a find of one document by _id through
// an unguarded front and through a guarded one (an authenticated session
// whose every command dbauth.Authorize checks against the user's roles),
// one call each in turn, so that a shared machine's noise hits both
// alike. It reports both latencies and the guarded front's share of the
// unguarded one's req/s (target ≥ 90 %), then SCRAM connection setup
// (connect, authenticate, ping, disconnect) as connections per second.
func BenchmarkAuthorizedFrontInterleaved(b *testing.B) {
	ctx := context.Background()
	_, _, uri := guardedPlane(b)
	dir := b.TempDir()
	open, err := dataplane.Open(dataplane.Config{Dir: dir, TempDir: dir, Ports: freeRange(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { open.Close() })
	if _, err := open.Serve(ctx, "open", 0); err != nil {
		b.Fatal(err)
	}
	openURI, _ := open.ConnectionString("open")
	unguarded, guarded := guardedClient(b, openURI, "", ""), guardedClient(b, uri, "app", "app-password")
	for _, c := range []*mongo.Client{unguarded, guarded} {
		var docs []any
		for i := range 1000 {
			docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i)}, {Key: "n", Value: i}})
		}
		if _, err := c.Database("app").Collection("c").InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("FindOne", func(b *testing.B) {
		var dOpen, dGuarded time.Duration
		for i := range b.N {
			for k := range 2 {
				c := []*mongo.Client{unguarded, guarded}[(i+k)%2] // alternate which goes first
				start := time.Now()
				var out bson.Raw
				if err := c.Database("app").Collection("c").FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i%1000)}}).Decode(&out); err != nil {
					b.Fatal(err)
				}
				if c == unguarded {
					dOpen += time.Since(start)
				} else {
					dGuarded += time.Since(start)
				}
			}
		}
		b.ReportMetric(float64(dOpen.Microseconds())/float64(b.N), "unguarded-µs/op")
		b.ReportMetric(float64(dGuarded.Microseconds())/float64(b.N), "guarded-µs/op")
		b.ReportMetric(100*float64(dOpen)/float64(dGuarded), "guarded-%-of-unguarded-req/s")
	})
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
		b.Run("Connect/"+mech, func(b *testing.B) {
			full := strings.Replace(uri, "mongodb://", "mongodb://app:app-password@", 1) + "?authSource=admin&authMechanism=" + mech
			start := time.Now()
			for b.Loop() {
				c, err := mongo.Connect(options.Client().ApplyURI(full).SetMaxPoolSize(1))
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Ping(ctx, nil); err != nil {
					b.Fatal(err)
				}
				c.Disconnect(ctx)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "connections/s")
		})
	}
}
