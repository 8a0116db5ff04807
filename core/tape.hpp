// Tape: the "fastest mode" engine. Instead of one heap node per scalar op
// (core/graph.hpp), a forward pass records one entry per fused vector op
// (embedding, rmsnorm, matrix-vector product, relu, residual add, attention
// over the KV cache, softmax + cross-entropy, mean) over two flat buffers:
// the model's parameters and the step's activations. Both buffers are reused
// from step to step, so a step allocates nothing once the first long document
// has grown them. backward() walks the tape newest first and applies each
// op's hand-written adjoint.
//
// Forward sums in microgpt.py's order (one sequential accumulator per output,
// starting from 0), so its values are the faithful engine's bits; backward
// accumulates in another order, so gradients differ in the last bits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace mga {

enum class TapeOpKind : std::uint8_t {
  embed,          // out[cols] = P[in0 + i] + P[in1 + i]    (token row + position row)
  rmsnorm,        // out[cols] = V[in0 + i] * scale, scale kept in V[saved]
  linear,         // out[rows] = P[in1] (rows x cols, row-major) * V[in0] (cols)
  relu,           // out[cols] = max(V[in0 + i], 0)
  add,            // out[cols] = V[in0 + i] + V[in1 + i]
  attention,      // q V[in0], keys V[in1], values V[in2]: rows positions, cols n_embd,
                  // heads heads; weights (heads x rows) kept from V[saved]
  cross_entropy,  // V[out] = -log softmax(V[in0], rows long)[cols]; probs kept from V[saved]
  mean,           // V[out] = sum(V[in0], rows long) * (1 / rows)
};

struct TapeOp {
  TapeOpKind kind;
  std::int32_t heads = 0;
  std::int32_t out = 0, in0 = 0, in1 = 0, in2 = 0;
  std::int32_t rows = 0, cols = 0;
  std::int32_t saved = 0;
};

class Tape {
 public:
  // params and param_grads belong to the model and must not move while the tape lives.
  Tape(std::span<const double> params, std::span<double> param_grads)
      : p_(params.data()), dp_(param_grads.data()) {}

  // Forgets the ops and the activations (keeps the memory).
  void reset() {
    ops_.clear();
    used_ = 0;
  }
  // Room for n activations; returns their offset. Offsets, not pointers, so growing is safe.
  int alloc(int n) {
    const int at = used_;
    used_ += n;
    if (std::size_t(used_) > v_.size()) v_.resize(std::max<std::size_t>(used_, 2 * v_.size()));
    return at;
  }
  double* value(int at) { return v_.data() + at; }
  std::size_t size() const { return ops_.size(); }

  // ---- forward: compute now, record for backward ----
  int embed(int wte_row, int wpe_row, int n) {
    const int out = alloc(n);
    for (int i = 0; i < n; ++i) v_[out + i] = p_[wte_row + i] + p_[wpe_row + i];
    ops_.push_back(
        {.kind = TapeOpKind::embed, .out = out, .in0 = wte_row, .in1 = wpe_row, .cols = n});
    return out;
  }

  // microgpt.py: ms = sum(xi * xi) / n; scale = (ms + 1e-5) ** -0.5; [xi * scale]
  int rmsnorm(int x, int n) {
    const int out = alloc(n), saved = alloc(1);
    double ms = 0;
    for (int i = 0; i < n; ++i) ms += v_[x + i] * v_[x + i];
    const double scale = std::pow(ms * std::pow(double(n), -1.0) + 1e-5, -0.5);
    for (int i = 0; i < n; ++i) v_[out + i] = v_[x + i] * scale;
    v_[saved] = scale;
    ops_.push_back({.kind = TapeOpKind::rmsnorm, .out = out, .in0 = x, .cols = n, .saved = saved});
    return out;
  }

  // W x for W = P[w..] (rows x cols); writes into `out` when given (the KV cache).
  int linear(int x, int w, int rows, int cols, int out = -1) {
    if (out < 0) out = alloc(rows);
    matvec(p_ + w, v_.data() + x, v_.data() + out, rows, cols);
    ops_.push_back(
        {.kind = TapeOpKind::linear, .out = out, .in0 = x, .in1 = w, .rows = rows, .cols = cols});
    return out;
  }

  int relu(int x, int n) {
    const int out = alloc(n);
    for (int i = 0; i < n; ++i) v_[out + i] = v_[x + i] > 0 ? v_[x + i] : 0.0;
    ops_.push_back({.kind = TapeOpKind::relu, .out = out, .in0 = x, .cols = n});
    return out;
  }

  int add(int a, int b, int n) {
    const int out = alloc(n);
    for (int i = 0; i < n; ++i) v_[out + i] = v_[a + i] + v_[b + i];
    ops_.push_back({.kind = TapeOpKind::add, .out = out, .in0 = a, .in1 = b, .cols = n});
    return out;
  }

  // Causal attention of one query over positions 0..t-1 of the KV cache
  // (keys and values: t rows of n_embd), every head at once.
  int attention(int q, int keys, int values, int t, int n_embd, int n_head) {
    const int out = alloc(n_embd), saved = alloc(n_head * t);
    const int hd = n_embd / n_head;
    const double inv_sqrt = std::pow(std::pow(double(hd), 0.5), -1.0);  // `/ head_dim**0.5`
    for (int h = 0; h < n_head; ++h) {
      const int hs = h * hd;
      double* w = v_.data() + saved + h * t;
      for (int s = 0; s < t; ++s) {
        double dot = 0;
        for (int j = 0; j < hd; ++j) dot += v_[q + hs + j] * v_[keys + s * n_embd + hs + j];
        w[s] = dot * inv_sqrt;
      }
      softmax_in_place(w, t);
      for (int j = 0; j < hd; ++j) {
        double acc = 0;
        for (int s = 0; s < t; ++s) acc += w[s] * v_[values + s * n_embd + hs + j];
        v_[out + hs + j] = acc;
      }
    }
    ops_.push_back({.kind = TapeOpKind::attention,
                    .heads = n_head,
                    .out = out,
                    .in0 = q,
                    .in1 = keys,
                    .in2 = values,
                    .rows = t,
                    .cols = n_embd,
                    .saved = saved});
    return out;
  }

  // -log(softmax(logits)[target]) into V[loss_slot].
  void cross_entropy(int logits, int n, int target, int loss_slot) {
    const int probs = alloc(n);
    std::copy_n(v_.data() + logits, n, v_.data() + probs);
    softmax_in_place(v_.data() + probs, n);
    v_[loss_slot] = -std::log(v_[probs + target]);
    ops_.push_back({.kind = TapeOpKind::cross_entropy,
                    .out = loss_slot,
                    .in0 = logits,
                    .rows = n,
                    .cols = target,
                    .saved = probs});
  }

  // sum(losses) * (1 / n), as microgpt.py averages the per-position losses.
  int mean(int first, int n) {
    const int out = alloc(1);
    double total = 0;
    for (int i = 0; i < n; ++i) total += v_[first + i];
    v_[out] = total * (1.0 / n);
    ops_.push_back({.kind = TapeOpKind::mean, .out = out, .in0 = first, .rows = n});
    return out;
  }

  // microgpt.py's softmax: exp(x - max), divided by the sum (as `* total**-1`).
  static void softmax_in_place(double* x, int n) {
    double max_val = x[0];
    for (int i = 1; i < n; ++i) max_val = x[i] > max_val ? x[i] : max_val;
    double total = 0;
    for (int i = 0; i < n; ++i) total += (x[i] = std::exp(x[i] - max_val));
    const double inv = std::pow(total, -1.0);
    for (int i = 0; i < n; ++i) x[i] *= inv;
  }

  // d root / d everything: adds into the parameter gradients (which the caller zeroes).
  void backward(int root) {
    g_.assign(used_, 0.0);  // no allocation once g_ has reached the largest step's size
    g_[root] = 1.0;
    for (auto op = ops_.rbegin(); op != ops_.rend(); ++op) adjoint(*op);
  }

 private:
  // One sequential accumulator per row, four rows at a time: microgpt.py's
  // summation order, with four independent dependency chains in flight.
  static void matvec(const double* w, const double* x, double* out, int rows, int cols) {
    int o = 0;
    for (; o + 4 <= rows; o += 4) {
      const double *w0 = w + o * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
      double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (int i = 0; i < cols; ++i) {
        a0 += w0[i] * x[i];
        a1 += w1[i] * x[i];
        a2 += w2[i] * x[i];
        a3 += w3[i] * x[i];
      }
      out[o] = a0, out[o + 1] = a1, out[o + 2] = a2, out[o + 3] = a3;
    }
    for (; o < rows; ++o) {
      double acc = 0;
      for (int i = 0; i < cols; ++i) acc += w[o * cols + i] * x[i];
      out[o] = acc;
    }
  }

  void adjoint(const TapeOp& op);

  const double* p_;
  double* dp_;
  std::vector<double> v_, g_;  // activations and their gradients
  std::vector<double> scratch_;
  std::vector<TapeOp> ops_;
  int used_ = 0;
};

inline void Tape::adjoint(const TapeOp& op) {
  double* g = g_.data();
  const double* v = v_.data();
  switch (op.kind) {
    case TapeOpKind::embed:
      for (int i = 0; i < op.cols; ++i) {
        dp_[op.in0 + i] += g[op.out + i];
        dp_[op.in1 + i] += g[op.out + i];
      }
      break;
    case TapeOpKind::rmsnorm: {
      // y = x * s, s = (sum(x^2)/n + eps)^-1/2:  dx = s dy - s^3 (dy . x) x / n
      const double s = v[op.saved];
      const double* x = v + op.in0;
      const double* dy = g + op.out;
      double dot = 0;
      for (int i = 0; i < op.cols; ++i) dot += dy[i] * x[i];
      const double k = s * s * s * dot / op.cols;
      for (int i = 0; i < op.cols; ++i) g[op.in0 + i] += s * dy[i] - k * x[i];
      break;
    }
    case TapeOpKind::linear: {
      // dx += W^T dy and dW += dy x^T, in one pass over W's contiguous rows.
      const double* x = v + op.in0;
      double* dx = g + op.in0;
      for (int o = 0; o < op.rows; ++o) {
        const double dy = g[op.out + o];
        if (dy == 0) continue;  // relu'd rows: nothing to add
        const double* w = p_ + op.in1 + o * op.cols;
        double* dw = dp_ + op.in1 + o * op.cols;
        for (int i = 0; i < op.cols; ++i) {
          dx[i] += w[i] * dy;
          dw[i] += dy * x[i];
        }
      }
      break;
    }
    case TapeOpKind::relu:
      for (int i = 0; i < op.cols; ++i)
        if (v[op.in0 + i] > 0) g[op.in0 + i] += g[op.out + i];
      break;
    case TapeOpKind::add:
      for (int i = 0; i < op.cols; ++i) {
        g[op.in0 + i] += g[op.out + i];
        g[op.in1 + i] += g[op.out + i];
      }
      break;
    case TapeOpKind::attention: {
      const int t = op.rows, n_embd = op.cols, hd = n_embd / op.heads;
      const double inv_sqrt = std::pow(std::pow(double(hd), 0.5), -1.0);
      if (scratch_.size() < std::size_t(t)) scratch_.resize(t);
      double* dlogit = scratch_.data();
      for (int h = 0; h < op.heads; ++h) {
        const int hs = h * hd;
        const double* w = v + op.saved + h * t;
        const double* dout = g + op.out + hs;
        // out = sum_s w_s v_s: dw_s = dout . v_s, dv_s += w_s dout
        double weighted = 0;
        for (int s = 0; s < t; ++s) {
          const double* vs = v + op.in2 + s * n_embd + hs;
          double* dvs = g + op.in2 + s * n_embd + hs;
          double dw = 0;
          for (int j = 0; j < hd; ++j) {
            dw += dout[j] * vs[j];
            dvs[j] += w[s] * dout[j];
          }
          dlogit[s] = dw;
          weighted += w[s] * dw;
        }
        // softmax: dlogit_s = w_s (dw_s - sum_r w_r dw_r); logits = q . k_s / sqrt(hd)
        for (int s = 0; s < t; ++s) {
          const double d = w[s] * (dlogit[s] - weighted) * inv_sqrt;
          const double* ks = v + op.in1 + s * n_embd + hs;
          double* dks = g + op.in1 + s * n_embd + hs;
          for (int j = 0; j < hd; ++j) {
            g[op.in0 + hs + j] += d * ks[j];
            dks[j] += d * v[op.in0 + hs + j];
          }
        }
      }
      break;
    }
    case TapeOpKind::cross_entropy: {
      // d(-log p_target)/d logit_i = p_i - [i == target]
      const double dloss = g[op.out];
      for (int i = 0; i < op.rows; ++i) g[op.in0 + i] += dloss * v[op.saved + i];
      g[op.in0 + op.cols] -= dloss;
      break;
    }
    case TapeOpKind::mean:
      for (int i = 0; i < op.rows; ++i) g[op.in0 + i] += g[op.out] * (1.0 / op.rows);
      break;
  }
}

}  // namespace mga
