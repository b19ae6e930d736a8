package service

import (
	"fmt"
	"testing"
)

func TestWindowEvictsOldestInInsertionOrder(t *testing.T) {
	w := newWindow(3)
	for _, id := range []string{"a", "b", "c"} {
		if !w.add(id) {
			t.Fatalf("add %s: not new", id)
		}
	}
	if w.add("b") {
		t.Fatal("re-adding b reported new")
	}
	w.add("d") // evicts a, the oldest insertion (re-adding b did not refresh it)
	if w.has("a") || !w.has("b") || !w.has("c") || !w.has("d") {
		t.Fatalf("after eviction: a=%v b=%v c=%v d=%v", w.has("a"), w.has("b"), w.has("c"), w.has("d"))
	}
	w.add("e") // evicts b
	if w.has("b") || w.len() != 3 {
		t.Fatalf("b still present or len %d", w.len())
	}
}

func TestWindowHoldsExactlyItsSize(t *testing.T) {
	w := newWindow(DefaultDedupWindow)
	for i := range DefaultDedupWindow + 500 {
		w.add(fmt.Sprint(i))
	}
	if w.len() != DefaultDedupWindow {
		t.Fatalf("len %d, want %d", w.len(), DefaultDedupWindow)
	}
	if w.has("499") || !w.has("500") || !w.has(fmt.Sprint(DefaultDedupWindow+499)) {
		t.Fatal("window does not hold exactly the newest ids")
	}
}
