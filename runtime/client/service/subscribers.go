package service

import "sync"

// subscribers is an ordered, concurrency-safe list of callbacks.
type subscribers[T any] struct {
	mu   sync.Mutex
	next uint64
	fns  []subscriber[T]
}

type subscriber[T any] struct {
	id uint64
	fn func(T)
}

// add registers fn and returns its idempotent cancel function.
func (s *subscribers[T]) add(fn func(T)) (cancel func()) {
	if fn == nil {
		return func() {}
	}
	s.mu.Lock()
	s.next++
	id := s.next
	s.fns = append(s.fns, subscriber[T]{id: id, fn: fn})
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.fns {
			if x.id == id {
				s.fns = append(s.fns[:i:i], s.fns[i+1:]...)
				return
			}
		}
	}
}

// emit calls every subscriber with v, in registration order, without holding the lock.
// A panicking subscriber is recovered and reported to onPanic; the others still run.
func (s *subscribers[T]) emit(v T, onPanic func(any)) {
	s.mu.Lock()
	fns := make([]func(T), len(s.fns))
	for i, x := range s.fns {
		fns[i] = x.fn
	}
	s.mu.Unlock()
	for _, fn := range fns {
		call(fn, v, onPanic)
	}
}

func call[T any](fn func(T), v T, onPanic func(any)) {
	defer func() {
		if p := recover(); p != nil {
			onPanic(p)
		}
	}()
	fn(v)
}
