package service

// window remembers the last size ids in insertion order; adding to a full window evicts
// the oldest id.
type window struct {
	size int
	ids  map[string]struct{}
	ring []string // insertion order; ring[head] is the oldest once full
	head int
}

func newWindow(size int) *window {
	return &window{size: size, ids: make(map[string]struct{}, size)}
}

// add records id and reports whether it was new. A repeated id is not re-inserted (its
// position in the eviction order does not change).
func (w *window) add(id string) bool {
	if _, seen := w.ids[id]; seen {
		return false
	}
	if len(w.ring) < w.size {
		w.ring = append(w.ring, id)
	} else {
		delete(w.ids, w.ring[w.head])
		w.ring[w.head] = id
		w.head = (w.head + 1) % w.size
	}
	w.ids[id] = struct{}{}
	return true
}

// has reports whether id is in the window.
func (w *window) has(id string) bool {
	_, ok := w.ids[id]
	return ok
}

// len returns the number of remembered ids.
func (w *window) len() int { return len(w.ids) }
