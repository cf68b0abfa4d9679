package hugepage

import (
	"testing"
	"unsafe"
)

// TestMake checks the slices Make returns: the length asked for, zeroed,
// and a large one starting at a huge page boundary.
func TestMake(t *testing.T) {
	for _, n := range []int{0, 1, minBytes/4 - 1, minBytes / 4, minBytes/4 + 1, 3<<20 + 5} {
		s := Make[uint32](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("Make(%d): len %d cap %d", n, len(s), cap(s))
		}
		for i, v := range s {
			if v != 0 {
				t.Fatalf("Make(%d)[%d] = %d", n, i, v)
			}
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(s))); 4*n >= minBytes && p%Size != 0 {
			t.Fatalf("Make(%d) starts at %#x, not at a %d boundary", n, p, Size)
		}
	}
	b := Make[byte](minBytes + 17)
	if len(b) != minBytes+17 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%Size != 0 {
		t.Fatalf("Make[byte]: len %d at %p", len(b), unsafe.SliceData(b))
	}
}

// TestAdviseKeepsContents fills tables of several sizes and alignments,
// advises them and checks every element is unchanged (the kernel copies
// pages when it collapses them into huge pages).
func TestAdviseKeepsContents(t *testing.T) {
	for _, c := range []struct{ n, off int }{{0, 0}, {100, 0}, {minBytes / 4, 0}, {3<<20 + 5, 0}, {3 << 20, 7}, {minBytes/4 + 1000, 1}} {
		s := Make[uint32](c.n + c.off)[c.off:]
		for i := range s {
			s[i] = uint32(i)*2654435761 + 1
		}
		Advise(s)
		for i, v := range s {
			if v != uint32(i)*2654435761+1 {
				t.Fatalf("n %d off %d: element %d is %d after Advise", c.n, c.off, i, v)
			}
		}
	}
	Advise([]byte(nil))
	Advise(make([]byte, 10))
}
