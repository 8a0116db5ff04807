// The fast tape's backward pass (--engine tape): d loss / d parameters of a
// step whose forward (TapeGpt::forward) filled records 0..n-1, by
// hand-written adjoints of the fused operations. Stage by stage, as the
// forward: every position's logits to the last layer's output, then per
// layer (last first) its MLP and wo, its attention, its q, k, v and rmsnorm;
// then the embeddings; the matrix products over all positions at once
// (core/tape_kernels.hpp). Each matrix's output gradient stays in the
// position's gradient record, and each weight gradient is then one sum over
// the step's positions, added up in registers. Gradients are summed in
// whatever order is fastest (in vector lanes), so they differ from the node
// graph's in the last bits; core/tape_exact.hpp keeps microgpt.py's order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/tape.hpp"
#include "core/tape_kernels.hpp"

namespace mga {

class TapeFastBackward {
 public:
  // Scratch for `positions` positions; a longer document grows it.
  explicit TapeFastBackward(int positions) : dw_att_(std::size_t(positions)) {}

  // Adds d loss / d w into dw (both tape order) for loss = mean over the n
  // positions of -log p(tokens[pos + 1]).
  void run(TapeGpt& net, const double* w, double* dw, const std::vector<int>& tokens, int n) {
    const TapeShape& s = net.shape();
    if (dw_att_.size() < std::size_t(n)) dw_att_.resize(std::size_t(n));
    std::fill_n(net.dqkv(0, 0), std::size_t(n) * s.kv_stride, 0.0);  // every layer's
    const double dloss = 1.0 / n;
    for (int pos = 0; pos < n; ++pos) {
      const double* r = net.record(pos);
      double* g = net.grad(pos);
      // d(-log p_target) / d logit_o = p_o - [o == target]
      for (int o = 0; o < s.vocab; ++o) g[s.dlogits + o] = dloss * r[s.probs + o];
      g[s.dlogits + tokens[pos + 1]] -= dloss;
      clear(g + s.top_grad(), s.embd);
    }
    simd::matmul_backward_x(s.lm_head.in(w), net.gradients(s.dlogits), net.gradients(s.top_grad()),
                            n);
    for (int l = s.layers - 1; l >= 0; --l) {
      const auto& a = s.layer_acts[l];
      const auto& p = s.layer_params[l];
      const auto& d = s.layer_grads[l];
      // x2 = x1 + fc2(relu(fc1(rmsnorm(x1)))), x1 = x + wo(xa): d/dx2 gives d/dx1 and d/dxa
      for (int pos = 0; pos < n; ++pos) clear(net.grad(pos) + d.dhp, s.hidden);
      simd::matmul_backward_x(p.fc2.in(w), net.gradients(d.dx2), net.gradients(d.dhp), n);
      for (int pos = 0; pos < n; ++pos) {
        const double* r = net.record(pos);
        double* g = net.grad(pos);
        simd::where_positive(r + a.hp, g + d.dhp, g + d.dhp, s.hidden_p);  // relu
        clear(g + s.dxn, s.embd);
      }
      simd::matmul_backward_x(p.fc1.in(w), net.gradients(d.dhp), net.gradients(s.dxn), n);
      for (int pos = 0; pos < n; ++pos) {
        const double* r = net.record(pos);
        double* g = net.grad(pos);
        std::copy_n(g + d.dx2, s.embd, g + d.dx1);  // the residual add
        rmsnorm(r + a.x1, r[a.norms + 3], g + s.dxn, g + d.dx1, s.embd);
        clear(g + d.dxa, s.embd);
      }
      simd::matmul_backward_x(p.wo.in(w), net.gradients(d.dx1), net.gradients(d.dxa), n);
      // the attention, then q, k, v and rmsnorm: d/dx, the layer's input
      for (int pos = n - 1; pos >= 0; --pos) attention(net, l, pos);
      for (int pos = 0; pos < n; ++pos) clear(net.grad(pos) + s.dxn, s.embd);
      simd::matmul_backward_x(p.qkv.in(w), net.dcache(l, 0), net.gradients(s.dxn), n);
      for (int pos = 0; pos < n; ++pos) {
        const double* r = net.record(pos);
        double* g = net.grad(pos);
        double* dx = g + s.layer_input_grad(l);
        std::copy_n(g + d.dx1, s.embd, dx);  // the residual add
        rmsnorm(r + s.layer_input(l), r[a.norms + 1], g + s.dxn, dx, s.embd);
      }
    }
    for (int pos = 0; pos < n; ++pos) {  // x0 = rmsnorm(wte[token] + wpe[pos])
      const double* r = net.record(pos);
      double* g = net.grad(pos);
      clear(g + s.dxn, s.embd);
      rmsnorm(r + s.emb, r[s.norm0 + 1], g + s.dx0, g + s.dxn, s.embd);
      double* dwte = dw + s.wte + std::size_t(tokens[pos]) * s.embd;
      double* dwpe = dw + s.wpe + std::size_t(pos) * s.embd;
      for (int i = 0; i < s.embd; ++i) {
        dwte[i] += g[s.dxn + i];
        dwpe[i] += g[s.dxn + i];
      }
    }
    // The weights: every position's outer product dy x^T, one sum per weight.
    simd::outer_sums(s.lm_head.in(dw), net.activations(s.layer_input(s.layers)),
                     net.gradients(s.dlogits), n);
    for (int l = 0; l < s.layers; ++l) {
      const auto& a = s.layer_acts[l];
      const auto& p = s.layer_params[l];
      const auto& d = s.layer_grads[l];
      simd::outer_sums(p.fc2.in(dw), net.activations(a.h), net.gradients(d.dx2), n);
      simd::outer_sums(p.fc1.in(dw), net.activations(a.xn2), net.gradients(d.dhp), n);
      simd::outer_sums(p.wo.in(dw), net.activations(a.xa), net.gradients(d.dx1), n);
      simd::outer_sums(p.qkv.in(dw), net.activations(a.xn1), net.dcache(l, 0), n);
    }
  }

 private:
  // y = x s, s = (sum(x^2) / n + eps)^-1/2:  dx += s dy - s^3 (dy . x) x / n
  static void rmsnorm(const double* x, double scale, const double* dy, double* dx, int n) {
    double dot = 0;
    for (int i = 0; i < n; ++i) dot += dy[i] * x[i];
    const double k = scale * scale * scale * dot / n;
    for (int i = 0; i < n; ++i) dx[i] += scale * dy[i] - k * x[i];
  }

  // From d/dxa of position pos: adds d/dq (its own) and d/dk, d/dv (positions
  // 0..pos) into the cache's gradients.
  void attention(TapeGpt& net, int l, int pos) {
    const TapeShape& s = net.shape();
    const double* dout_all = net.grad(pos) + s.layer_grads[l].dxa;
    const double* q = net.qkv(l, pos);
    double* dq = net.dqkv(l, pos);
    const double* cache = net.qkv(l, 0);
    double* dcache = net.dqkv(l, 0);
    for (int h = 0; h < s.heads; ++h) {
      const int hs = h * s.head_dim;
      const double* w = net.attention_weights(l, pos) + h * (pos + 1);
      const double* dout = dout_all + hs;
      // out = sum_t w_t v_t: dw_t = dout . v_t, dv_t += w_t dout
      double weighted = 0;
      for (int t = 0; t <= pos; ++t) {
        const std::size_t at = std::size_t(t) * s.kv_stride + 2 * s.embd + hs;
        double dw = 0;
        for (int j = 0; j < s.head_dim; ++j) {
          dw += dout[j] * cache[at + j];
          dcache[at + j] += w[t] * dout[j];
        }
        dw_att_[t] = dw;
        weighted += w[t] * dw;
      }
      // softmax: dlogit_t = w_t (dw_t - sum_r w_r dw_r); logit_t = q . k_t / sqrt(head_dim)
      for (int t = 0; t <= pos; ++t) {
        const double d = w[t] * (dw_att_[t] - weighted) * s.inv_sqrt_head_dim;
        const std::size_t at = std::size_t(t) * s.kv_stride + s.embd + hs;
        for (int j = 0; j < s.head_dim; ++j) {
          dq[hs + j] += d * cache[at + j];
          dcache[at + j] += d * q[hs + j];
        }
      }
    }
  }

  static void clear(double* x, int n) { std::fill_n(x, n, 0.0); }

  std::vector<double> dw_att_;  // attention weights' gradients, one head
};

}  // namespace mga
