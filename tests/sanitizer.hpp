// Whether this test binary is built with AddressSanitizer: a few checks mean
// nothing there (ASan supplies malloc itself and cannot run under RLIMIT_AS).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define MGA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MGA_UNDER_ASAN 1
#endif
#endif

namespace mga::test {
#ifdef MGA_UNDER_ASAN
inline constexpr bool kUnderAsan = true;
#else
inline constexpr bool kUnderAsan = false;
#endif
}  // namespace mga::test
