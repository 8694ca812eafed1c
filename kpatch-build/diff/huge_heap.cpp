// Backing the heap with 2 MB pages before a large load (licence: GPL-2.0-only).
#include "diff/huge_heap.hpp"

#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kpatch::diff {

void reserve_huge_heap(std::size_t bytes)
{
    constexpr std::uintptr_t huge = 2u << 20;
    // The next growth of the heap takes `bytes` at once, freeing never gives it back in
    // between (glibc would trim the top and grow it again in small steps), and large
    // blocks (the file's text, the tables) come from it too rather than from mmap.
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * bytes));
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes / 2));
    mallopt(M_TOP_PAD, static_cast<int>(bytes));
    auto lo = reinterpret_cast<std::uintptr_t>(sbrk(0));
    // More than the top of the heap holds: grows it (volatile: the compiler would drop an
    // unused malloc/free pair).
    void *volatile grow = std::malloc(1 << 20);
    std::free(grow);
    auto hi = reinterpret_cast<std::uintptr_t>(sbrk(0));
    std::uintptr_t start = (lo + huge - 1) & ~(huge - 1);
    if (hi > start + huge)
        madvise(reinterpret_cast<void *>(start), (hi - start) & ~(huge - 1), MADV_HUGEPAGE);
}

} // namespace kpatch::diff
