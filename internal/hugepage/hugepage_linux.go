package hugepage

import "syscall"

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which the syscall package
// does not name.
const madvCollapse = 25

// advise marks b (Size-aligned) for huge pages and collapses the pages
// already there into huge pages. MADV_HUGEPAGE is what makes later
// faults take huge pages under the "madvise" setting; MADV_COLLAPSE
// copies pages already touched into huge pages at once, instead of
// leaving them for khugepaged's slow scan. Errors (an older kernel, no
// free huge page) leave the pages as they are, which is only slower.
func advise(b []byte) {
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	_ = syscall.Madvise(b, madvCollapse)
}
