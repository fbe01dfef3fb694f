package auth

import (
	"container/heap"
	"time"
)

// expiringMap is a map whose entries vanish once their expiry has passed. A
// min-heap on expiry makes pruning cost O(log n) per forgotten entry, so the
// in-memory stores stay bounded by the number of live entries without a
// background goroutine.
type expiringMap[K comparable, V any] struct {
	m map[K]expiringValue[V]
	h expiryHeap[K]
}

type expiringValue[V any] struct {
	v   V
	exp time.Time
}

type expiryItem[K comparable] struct {
	k   K
	exp time.Time
}

type expiryHeap[K comparable] []expiryItem[K]

func (h expiryHeap[K]) Len() int           { return len(h) }
func (h expiryHeap[K]) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
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
	for len(e.h) > 0 && !e.h[0].exp.After(now) {
		it := heap.Pop(&e.h).(expiryItem[K])
		// The heap may hold an older expiry for a key stored again since;
		// only the entry whose expiry matches is really due.
		if cur, ok := e.m[it.k]; ok && cur.exp.Equal(it.exp) {
			delete(e.m, it.k)
		}
	}
}

func (e *expiringMap[K, V]) get(k K) (V, bool) {
	v, ok := e.m[k]
	return v.v, ok
}

func (e *expiringMap[K, V]) put(k K, v V, exp time.Time) {
	cur, ok := e.m[k]
	e.m[k] = expiringValue[V]{v: v, exp: exp}
	if ok && cur.exp.Equal(exp) {
		return // the heap already holds this expiry
	}
	heap.Push(&e.h, expiryItem[K]{k: k, exp: exp})
}

func (e *expiringMap[K, V]) len() int { return len(e.m) }
