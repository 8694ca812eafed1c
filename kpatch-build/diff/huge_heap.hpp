// Backing the heap with 2 MB pages before a large load (licence: GPL-2.0-only).
#pragma once

#include <cstddef>

namespace kpatch::diff {

// Grows the heap by `bytes` in one step and asks the kernel to back it with transparent
// huge pages. Loading a kallsyms builds ~35 MB of small allocations, and one page fault per
// 4 KB page was half of create-diff-object's time on a small object. No effect where the
// kernel has no transparent huge pages; best effort, never fails.
void reserve_huge_heap(std::size_t bytes);

} // namespace kpatch::diff
