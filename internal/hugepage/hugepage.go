// Package hugepage allocates the large lookup tables of the detectors
// (the classifier's feature table, the lexicon's automaton) so that the
// kernel can back them with huge pages.
//
// Both tables are read at random, a few bytes of a different 4 KiB page
// at almost every lookup, and together they are several times larger
// than what the processor's TLB maps in 4 KiB pages: in 4 KiB pages a
// lookup misses the TLB as well as the cache, and under a hypervisor a
// TLB miss walks two page tables. In 2 MiB pages the tables need a few
// TLB entries. Where transparent huge pages are enabled only on request
// (the "madvise" setting most distributions ship), a Go program never
// gets them without asking.
//
// The tables stay ordinary Go memory, allocated with make and freed by
// the garbage collector: this package only aligns them and advises the
// kernel, so nothing about their lifetime changes. Memory the kernel
// backs with huge pages stays so marked after the table is freed, which
// is why only the few tables built once per detector use it.
package hugepage

import "unsafe"

// Size is the huge page size this package aligns to.
const Size = 2 << 20

// minBytes is the smallest table worth a huge page of its own: below it
// the table fits the TLB's reach in small pages anyway.
const minBytes = 2 * Size

// Make returns a zeroed slice of n elements. A table of minBytes or more
// starts at a Size boundary in the Go heap (it is cut from an allocation
// up to Size larger); fill it, then call Advise.
func Make[T byte | uint32](n int) []T {
	var zero T
	esz := int(unsafe.Sizeof(zero))
	if esz == 0 || n*esz < minBytes {
		return make([]T, n)
	}
	pad := (Size + esz - 1) / esz
	b := make([]T, n+pad)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(b))) % Size; r != 0 {
		off = int((Size - r) / uintptr(esz))
	}
	return b[off : off+n : off+n]
}

// Advise asks the kernel to back the Size-aligned pages of s with huge
// pages, now (where it can) and when they are next touched. It changes
// nothing in s's contents; where huge pages are not available it does
// nothing.
func Advise[T byte | uint32](s []T) {
	if len(s) == 0 {
		return
	}
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n < minBytes {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + Size - 1) &^ (Size - 1)
	end := (p + n) &^ (Size - 1)
	if end <= start {
		return
	}
	advise(b[start-p : end-p])
}
