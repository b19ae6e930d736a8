package lease

import "testing"

func BenchmarkMintResolve(b *testing.B) {
	r := New(Options{})
	defer r.Close()
	bind := binding("c1")
	v := grant(60000)
	b.ReportAllocs()
	for b.Loop() {
		l := r.Mint(bind)
		if _, err := r.Resolve(l.LeaseID, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMintResolveParallel(b *testing.B) {
	r := New(Options{})
	defer r.Close()
	bind := binding("c1")
	v := grant(60000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l := r.Mint(bind)
			if _, err := r.Resolve(l.LeaseID, v); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
