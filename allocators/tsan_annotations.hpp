// What ThreadSanitizer cannot see of the allocators it does not instrument
// (mimalloc, jemalloc and tcmalloc, called through their own APIs): that
// freeing a block, on whichever thread, happens before the allocation that
// hands the same address out again, possibly to another thread (tcmalloc's
// central lists, mimalloc's segment cache). TSan learns that of malloc and
// operator new by replacing them; for the others their policies say it with
// these two calls (scripts/tsan.sh). Outside a TSan build they are empty, so
// no measurement pays for them. What happens inside those allocators stays
// invisible to TSan either way.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define MGA_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MGA_UNDER_TSAN 1
#endif
#endif

#ifdef MGA_UNDER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace mga {

#ifdef MGA_UNDER_TSAN
inline constexpr bool kUnderTsan = true;
// After an allocator returned `block`: whatever freed it before happened first.
inline void tsan_allocated(void* block) {
  __tsan_acquire(block);
}
// Before `block` goes back to its allocator.
inline void tsan_freeing(void* block) {
  __tsan_release(block);
}
#else
inline constexpr bool kUnderTsan = false;
inline void tsan_allocated(void*) {}
inline void tsan_freeing(void*) {}
#endif

}  // namespace mga
