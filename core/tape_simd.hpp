// The tapes' arithmetic kernels: vectors of doubles as wide as the build
// allows (SSE2's two lanes at the default -O2, four or eight with
// -DMGA_NATIVE=ON), written with GCC's vector extensions.
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
inline vd loadu(const double* p) {
  return *reinterpret_cast<const vdu*>(p);
}
inline void storeu(double* p, vd v) {
  *reinterpret_cast<vdu*>(p) = v;
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
inline vd sum_lanes(vd* v) {
  for (int j = 0; j < kLanes / 2; ++j) v[j] = pair_sums<1>(v[2 * j], v[2 * j + 1]);
  if constexpr (kLanes >= 4) {
    for (int j = 0; j < kLanes / 4; ++j) v[j] = pair_sums<2>(v[2 * j], v[2 * j + 1]);
  }
  if constexpr (kLanes >= 8) v[0] = pair_sums<4>(v[0], v[1]);
  return v[0];
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

// out[o] = sum_i W[o][i] x[i] for o < rows (rows a multiple of kPad), W stored
// transposed: wt[i * rows + o]. N vectors of output rows at once, each lane
// one row's sum: (((0 + w0 x0) + w1 x1) + ...), microgpt.py's order.
template <int N>
inline void matvec_rows(const double* __restrict wt, int rows, const double* __restrict x, int cols,
                        double* __restrict out) {
  vd acc[N];
#pragma GCC unroll 16
  for (int k = 0; k < N; ++k) acc[k] = vd{};
  for (int i = 0; i < cols; ++i) {
    const vd xi = splat(x[i]);
    const double* w = wt + std::size_t(i) * rows;
#pragma GCC unroll 16
    for (int k = 0; k < N; ++k) acc[k] += load(w + k * kLanes) * xi;
  }
#pragma GCC unroll 16
  for (int k = 0; k < N; ++k) store(out + k * kLanes, acc[k]);
}

// Up to kBlock vectors of accumulators stay in registers (16 of them at most
// without AVX-512, which has 32).
inline constexpr int kBlock = kLanes == 8 ? 12 : 8;

// Any number of rows: blocks of kBlock vectors, then one block of the rest
// (matvec_rows<1> .. matvec_rows<kBlock - 1>, chosen by the fold below).
inline void matvec(const double* wt, int rows, const double* x, int cols, double* out) {
  int o = 0;
  for (; rows - o >= kBlock * kLanes; o += kBlock * kLanes)
    matvec_rows<kBlock>(wt + o, rows, x, cols, out + o);
  [&]<int... N>(std::integer_sequence<int, N...>) {
    const int left = (rows - o) / kLanes;
    ((left == N + 1 ? matvec_rows<N + 1>(wt + o, rows, x, cols, out + o) : void()), ...);
  }
  (std::make_integer_sequence<int, kBlock - 1>{});
}

// The fast tape's backward of out = W x (W transposed as above, dy padded
// with zeros): dx[i] += sum_o W[o][i] dy[o], each in vector lanes over o, the
// lanes of kLanes inputs added up at once (so not in microgpt.py's order).
inline void matvec_backward_x(const double* __restrict wt, int rows, const double* __restrict dy,
                              int cols, double* __restrict dx) {
  int i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    vd acc[kLanes];
#pragma GCC unroll 8
    for (int k = 0; k < kLanes; ++k) acc[k] = vd{};
    for (int o = 0; o < rows; o += kLanes) {
      const vd d = load(dy + o);
#pragma GCC unroll 8
      for (int k = 0; k < kLanes; ++k) acc[k] += load(wt + std::size_t(i + k) * rows + o) * d;
    }
    storeu(dx + i, loadu(dx + i) + sum_lanes(acc));
  }
  for (; i < cols; ++i) {
    vd acc = vd{};
    for (int o = 0; o < rows; o += kLanes)
      acc += load(wt + std::size_t(i) * rows + o) * load(dy + o);
    dx[i] += hsum(acc);
  }
}

// dW += sum over n positions of dy_p x_p^T, W transposed as above: x_p is
// xs + p * xstride (cols long), dy_p is dys + p * dystride (rows long, padded).
// A step's terms for one parameter add up in registers, then go to memory once.
template <int N>
inline void outer_sums_rows(double* __restrict dwt, int rows, const double* __restrict xs,
                            std::size_t xstride, const double* __restrict dys, std::size_t dystride,
                            int cols, int n) {
  for (int i = 0; i < cols; ++i) {
    double* dw = dwt + std::size_t(i) * rows;
    vd acc[N];
#pragma GCC unroll 16
    for (int k = 0; k < N; ++k) acc[k] = load(dw + k * kLanes);
    for (int p = 0; p < n; ++p) {
      const vd x = splat(xs[p * xstride + i]);
      const double* dy = dys + p * dystride;
#pragma GCC unroll 16
      for (int k = 0; k < N; ++k) acc[k] += x * load(dy + k * kLanes);
    }
#pragma GCC unroll 16
    for (int k = 0; k < N; ++k) store(dw + k * kLanes, acc[k]);
  }
}

inline void outer_sums(double* dwt, int rows, const double* xs, std::size_t xstride,
                       const double* dys, std::size_t dystride, int cols, int n) {
  int o = 0;
  for (; rows - o >= kBlock * kLanes; o += kBlock * kLanes)
    outer_sums_rows<kBlock>(dwt + o, rows, xs, xstride, dys + o, dystride, cols, n);
  [&]<int... N>(std::integer_sequence<int, N...>) {
    const int left = (rows - o) / kLanes;
    ((left == N + 1 ? outer_sums_rows<N + 1>(dwt + o, rows, xs, xstride, dys + o, dystride, cols, n)
                    : void()),
     ...);
  }
  (std::make_integer_sequence<int, kBlock - 1>{});
}

}  // namespace mga::simd
