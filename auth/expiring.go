package auth

import (
	"container/heap"
	"math"
	"time"
)

// expiringMap is a map whose entries vanish once their expiry has passed. A
// min-heap on expiry makes pruning cost O(log n) per forgotten entry, so the
// in-memory stores stay bounded by the number of live entries without a
// background goroutine. Expiries are kept as unix nanoseconds rather than
// time.Time, whose location pointer would make every entry one the garbage
// collector scans: the nonce counter holds one per Digest request.
type expiringMap[K comparable, V any] struct {
	m map[K]expiringValue[V]
	h expiryHeap[K]
}

type expiringValue[V any] struct {
	v   V
	exp int64 // unix nanoseconds
}

type expiryItem[K comparable] struct {
	k   K
	exp int64 // unix nanoseconds
}

type expiryHeap[K comparable] []expiryItem[K]

func (h expiryHeap[K]) Len() int           { return len(h) }
func (h expiryHeap[K]) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap[K]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap[K]) Push(x any)        { *h = append(*h, x.(expiryItem[K])) }
func (h *expiryHeap[K]) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newExpiringMap[K comparable, V any]() *expiringMap[K, V] {
	return &expiringMap[K, V]{m: make(map[K]expiringValue[V])}
}

// prune forgets every entry whose expiry is at or before now.
func (e *expiringMap[K, V]) prune(now time.Time) {
	at := unixNano(now)
	for len(e.h) > 0 && e.h[0].exp <= at {
		it := heap.Pop(&e.h).(expiryItem[K])
		// The heap may hold an older expiry for a key stored again since;
		// only the entry whose expiry matches is really due.
		if cur, ok := e.m[it.k]; ok && cur.exp == it.exp {
			delete(e.m, it.k)
		}
	}
}

func (e *expiringMap[K, V]) get(k K) (V, bool) {
	v, ok := e.m[k]
	return v.v, ok
}

func (e *expiringMap[K, V]) put(k K, v V, exp time.Time) {
	at := unixNano(exp)
	cur, ok := e.m[k]
	e.m[k] = expiringValue[V]{v: v, exp: at}
	if ok && cur.exp == at {
		return // the heap already holds this expiry
	}
	heap.Push(&e.h, expiryItem[K]{k: k, exp: at})
}

func (e *expiringMap[K, V]) len() int { return len(e.m) }

// unixNano is t in unix nanoseconds, saturated where UnixNano is undefined
// (before 1678, after 2262): a zero time still means "already expired".
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNano):
		return math.MinInt64
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var minNano, maxNano = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
