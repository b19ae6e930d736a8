package batch

import (
	"context"
	"errors"
	"slices"
	"testing"
)

var errTestClosed = errors.New("closed")

// TestQueue: requests enqueued while the committer is busy reach it together and in order,
// never more than the bound at once; a full queue answers an ended context's error; Close
// commits what is queued, and later requests get the closed error.
func TestQueue(t *testing.T) {
	const bound = 4
	entered, hold := make(chan struct{}), make(chan struct{})
	var batches [][]int
	q := New(bound, errTestClosed, true, func(b []int) {
		if len(batches) == 0 {
			close(entered)
			<-hold // the committer is busy while the others queue up
		}
		batches = append(batches, slices.Clone(b))
	})
	if err := q.Enqueue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	<-entered
	for i := 1; i <= bound; i++ { // fills the queue behind the held batch
		if err := q.Enqueue(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Enqueue(ctx, 99); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enqueue on a full queue with an ended context: %v, want context.Canceled", err)
	}
	close(hold)
	q.Close()
	if err := q.Enqueue(context.Background(), 5); !errors.Is(err, errTestClosed) {
		t.Fatalf("Enqueue after Close: %v, want the closed error", err)
	}
	if !q.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	// batches is only written by the committer, which Close waited for.
	if want := [][]int{{0}, {1, 2, 3, 4}}; !slices.EqualFunc(batches, want, slices.Equal[[]int]) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
}
