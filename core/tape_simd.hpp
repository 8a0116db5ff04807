// The tapes' vectors: doubles as many as the build allows in one register
// (SSE2's two lanes at the default -O2, four or eight with -DMGA_NATIVE=ON),
// written with GCC's vector extensions, and the buffers they live in.
//
// A vector's lanes always hold *independent* sums (different output rows of
// a matrix-vector product, different inputs' gradients), never parts of one
// sum: every sum still adds its terms one by one, left to right, as
// microgpt.py does, so vectorizing changes no bit. No fused multiply-add
// either (-ffp-contract=off; the kernels spell out a multiply, then an add).
#pragma once

#include <cmath>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace mga::simd {

#if defined(__AVX512F__)
inline constexpr int kLanes = 8;
#elif defined(__AVX__)
inline constexpr int kLanes = 4;
#else
inline constexpr int kLanes = 2;
#endif

// Aligned vectors (the tape's own layout: every row padded to kPad doubles,
// every buffer 64-byte aligned) and unaligned ones (rows of any length).
using vd = double __attribute__((vector_size(8 * kLanes), may_alias));
using vdu = double __attribute__((vector_size(8 * kLanes), may_alias, aligned(8)));

inline constexpr int kPad = 8;  // a multiple of every kLanes: 64 bytes
inline int padded(int n) {
  return (n + kPad - 1) / kPad * kPad;
}

inline vd load(const double* p) {
  return *reinterpret_cast<const vd*>(p);
}
inline void store(double* p, vd v) {
  *reinterpret_cast<vd*>(p) = v;
}
// The kLanes doubles from p as one vector, to read and write in place.
inline vd& at(double* p) {
  return *reinterpret_cast<vd*>(p);
}
inline vdu& at_unaligned(double* p) {
  return *reinterpret_cast<vdu*>(p);
}
inline vd loadu(const double* p) {
  return *reinterpret_cast<const vdu*>(p);
}
inline void storeu(double* p, vd v) {
  *reinterpret_cast<vdu*>(p) = v;
}
// x > 0 ? v : +0.0, lane by lane, without a branch (relu and its gradient:
// microgpt.py's relu gives +0.0 for x <= 0, -0.0 and NaN included).
inline vd where_positive(vd x, vd v) {
  using vl = long long __attribute__((vector_size(8 * kLanes)));
  return vd(vl(v) & (x > vd{}));
}

inline vd splat(double x) {  // (not vd{} + x: that adds 0.0, which turns -0.0 into +0.0)
  vd v;
  for (int k = 0; k < kLanes; ++k) v[k] = x;
  return v;
}

inline vd sqrt(vd v) {
#if defined(__AVX512F__)
  return vd(_mm512_mask_sqrt_pd(__m512d(v), 0xff, __m512d(v)));  // GCC 12 warns on _mm512_sqrt_pd
#elif defined(__AVX__)
  return vd(_mm256_sqrt_pd(__m256d(v)));
#elif defined(__SSE2__)
  return vd(_mm_sqrt_pd(__m128d(v)));
#else
  for (int k = 0; k < kLanes; ++k) v[k] = std::sqrt(v[k]);
  return v;
#endif
}

inline double hsum(vd v) {
  double s = v[0];
  for (int k = 1; k < kLanes; ++k) s += v[k];
  return s;
}

// Lane k of the result: the sum of a's lanes k and k + s when (k mod 2s) < s,
// else of b's lanes k - s and k (one step of adding kLanes vectors' lanes).
template <int S, int... K>
inline vd pair_sums(vd a, vd b, std::integer_sequence<int, K...>) {
  return __builtin_shufflevector(a, b, (K % (2 * S) < S ? K : kLanes + K - S)...) +
         __builtin_shufflevector(a, b, (K % (2 * S) < S ? K + S : kLanes + K)...);
}
template <int S>
inline vd pair_sums(vd a, vd b) {
  return pair_sums<S>(a, b, std::make_integer_sequence<int, kLanes>{});
}

// kLanes vectors in, one out: lane k holds the sum of v[k]'s lanes.
inline vd sum_lanes(const vd (&v)[kLanes]) {
  vd half[kLanes / 2];
#pragma GCC unroll 8
  for (int j = 0; j < kLanes / 2; ++j) half[j] = pair_sums<1>(v[2 * j], v[2 * j + 1]);
  if constexpr (kLanes == 2) {
    return half[0];
  } else {
    vd quarter[kLanes / 4];
#pragma GCC unroll 8
    for (int j = 0; j < kLanes / 4; ++j) quarter[j] = pair_sums<2>(half[2 * j], half[2 * j + 1]);
    if constexpr (kLanes == 4) {
      return quarter[0];
    } else {
      return pair_sums<4>(quarter[0], quarter[1]);
    }
  }
}

// 64-byte aligned storage for the tapes' buffers.
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  friend bool operator==(const Aligned64&, const Aligned64&) { return true; }
};
using Doubles = std::vector<double, Aligned64<double>>;

// Calls f(std::integral_constant<int, K>{}) for K = k, 1 <= k <= Max: a
// kernel's block size, known at compile time, chosen at run time.
template <int Max, class F>
inline void with_constant(int k, F&& f) {
  [&]<int... K>(std::integer_sequence<int, K...>) {
    ((k == K + 1 ? f(std::integral_constant<int, K + 1>{}) : void()), ...);
  }
  (std::make_integer_sequence<int, Max>{});
}

}  // namespace mga::simd
