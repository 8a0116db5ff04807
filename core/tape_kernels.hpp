// The tapes' matrix kernels, over a stage's positions at once: a weight
// matrix is Transposed, and the positions' vectors Strided, so that records
// of activations and gradients are read in place. The block kernels, with
// their restrict pointers, are the kernels' inner loops.
//
// The forward product keeps microgpt.py's order: each output is its own
// accumulator in a vector lane, (((0 + w0 x0) + w1 x1) + ...); the lanes and
// the positions processed together only run independent sums side by side.
// The backward kernels are the fast tape's: they add in whatever order is
// fastest.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "core/tape_simd.hpp"

namespace mga::simd {

// A weight matrix W (rows x cols, as in ParamLayout) stored transposed:
// W[o][i] at t[i * rows + o], rows padded to kPad with zeros. T is double
// for a gradient's matrix, const double for the weights.
template <class T>
struct Transposed {
  T* t;
  int rows;  // padded
  int cols;
};

// The vectors of a stage's positions: position p's at first + p * stride.
template <class T>
struct Strided {
  T* first;
  std::size_t stride;

  Strided(T* first_vector, std::size_t stride_between)
      : first(first_vector), stride(stride_between) {}
  template <class U>
  requires std::is_convertible_v<U*, T*> Strided(Strided<U> other)
      : first(other.first), stride(other.stride) {}
};

// out[i] = x[i] > 0 ? v[i] : +0.0 for i < n (a multiple of kPad).
inline void where_positive(const double* x, const double* v, double* out, int n) {
  for (int i = 0; i < n; i += kLanes) store(out + i, where_positive(load(x + i), load(v + i)));
}

// Positions and vectors of output rows per block: P x R accumulators (and R
// weight vectors) stay in registers: 16 vector registers without AVX-512, 32 with.
inline constexpr int kBlockPositions = kLanes == 8 ? 4 : 2;
inline constexpr int kBlockRows = 4;

template <int P, int R>
inline void matmul_block(const double* __restrict wt, int rows, const double* __restrict xs,
                         std::size_t xstride, int cols, double* __restrict outs,
                         std::size_t ostride) {
  vd acc[P][R];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[p][r] = vd{};
  }
  for (int i = 0; i < cols; ++i) {
    const double* w = wt + std::size_t(i) * rows;
    vd wv[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) wv[r] = load(w + r * kLanes);
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      const vd x = splat(xs[p * xstride + i]);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[p][r] += wv[r] * x;
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) store(outs + p * ostride + r * kLanes, acc[p][r]);
  }
}

// outs[p][o] = sum_i W[o][i] xs[p][i] for n positions and every o < w.rows.
inline void matmul(Transposed<const double> w, Strided<const double> xs, Strided<double> outs,
                   int n) {
  for (int p = 0; p < n; p += kBlockPositions) {
    const int positions = std::min(kBlockPositions, n - p);
    for (int o = 0; o < w.rows; o += kBlockRows * kLanes) {
      const int vectors = std::min(kBlockRows, (w.rows - o) / kLanes);
      with_constant<kBlockPositions>(positions, [&](auto P) {
        with_constant<kBlockRows>(vectors, [&](auto R) {
          matmul_block<P, R>(w.t + o, w.rows, xs.first + p * xs.stride, xs.stride, w.cols,
                             outs.first + p * outs.stride + o, outs.stride);
        });
      });
    }
  }
}

// dxs[p][i] += sum_o W[o][i] dys[p][o] for n positions (dys padded with
// zeros): each dot product in lanes over o, the lanes of kLanes inputs added
// up at once.
template <int P>
inline void matmul_backward_block(const double* __restrict wt, int rows,
                                  const double* __restrict dys, std::size_t dystride, int cols,
                                  double* __restrict dxs, std::size_t dxstride) {
  int i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    vd acc[P][kLanes];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
#pragma GCC unroll 16
      for (int k = 0; k < kLanes; ++k) acc[p][k] = vd{};
    }
    for (int o = 0; o < rows; o += kLanes) {
      vd w[kLanes];
#pragma GCC unroll 16
      for (int k = 0; k < kLanes; ++k) w[k] = load(wt + std::size_t(i + k) * rows + o);
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) {
        const vd d = load(dys + p * dystride + o);
#pragma GCC unroll 16
        for (int k = 0; k < kLanes; ++k) acc[p][k] += w[k] * d;
      }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      double* dx = dxs + p * dxstride + i;
      storeu(dx, loadu(dx) + sum_lanes(acc[p]));
    }
  }
  for (; i < cols; ++i) {
    for (int p = 0; p < P; ++p) {
      vd acc = vd{};
      for (int o = 0; o < rows; o += kLanes)
        acc += load(wt + std::size_t(i) * rows + o) * load(dys + p * dystride + o);
      dxs[p * dxstride + i] += hsum(acc);
    }
  }
}

inline void matmul_backward_x(Transposed<const double> w, Strided<const double> dys,
                              Strided<double> dxs, int n) {
  constexpr int kPositions = 2;  // 2 x kLanes accumulators and kLanes weight vectors
  for (int p = 0; p < n; p += kPositions) {
    with_constant<kPositions>(std::min(kPositions, n - p), [&](auto P) {
      matmul_backward_block<P>(w.t, w.rows, dys.first + p * dys.stride, dys.stride, w.cols,
                               dxs.first + p * dxs.stride, dxs.stride);
    });
  }
}

// dW += sum over n positions of dy_p x_p^T (x_p cols long, dy_p rows long).
// A weight's terms of a step add up in registers, then go to memory once.
template <int R>
inline void outer_sums_block(double* __restrict dwt, int rows, const double* __restrict xs,
                             std::size_t xstride, const double* __restrict dys,
                             std::size_t dystride, int cols, int n) {
  for (int i = 0; i < cols; ++i) {
    double* dw = dwt + std::size_t(i) * rows;
    vd acc[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r] = load(dw + r * kLanes);
    for (int p = 0; p < n; ++p) {
      const vd x = splat(xs[p * xstride + i]);
      const double* dy = dys + p * dystride;
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[r] += x * load(dy + r * kLanes);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) store(dw + r * kLanes, acc[r]);
  }
}

inline void outer_sums(Transposed<double> dw, Strided<const double> xs, Strided<const double> dys,
                       int n) {
  constexpr int kRows = 8;
  for (int o = 0; o < dw.rows; o += kRows * kLanes) {
    with_constant<kRows>(std::min(kRows, (dw.rows - o) / kLanes), [&](auto R) {
      outer_sums_block<R>(dw.t + o, dw.rows, xs.first, xs.stride, dys.first + o, dys.stride,
                          dw.cols, n);
    });
  }
}

}  // namespace mga::simd
