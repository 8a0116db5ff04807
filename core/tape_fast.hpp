// The fast tape's backward pass (--engine tape): d loss / d parameters of a
// step whose forward (TapeGpt) filled records 0..n-1, by hand-written
// adjoints of the fused operations. It runs newest position first through
// every activation's gradient, keeping each matrix's output gradient per
// position; then each weight gradient is one sum over the step's positions,
// added up in registers. Gradients are summed in whatever order is fastest
// (in vector lanes, positions before layers), so they differ from the node
// graph's in the last bits; core/tape_exact.hpp keeps microgpt.py's order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/tape.hpp"

namespace mga {

class TapeFastBackward {
 public:
  explicit TapeFastBackward(const TapeShape& s) {
    auto slot = [this](int n) {
      const int at = record_;
      record_ += simd::padded(n);
      return at;
    };
    dlogits_ = slot(s.vocab);
    for (int l = 0; l < s.layers; ++l)
      layers_.push_back({.dx2 = slot(s.embd), .dhp = slot(s.hidden), .dx1 = slot(s.embd)});
    grads_.assign(std::size_t(s.block) * record_, 0.0);
    demb_.assign(std::size_t(s.embd_p), 0.0);
    dxa_.assign(std::size_t(s.embd_p), 0.0);
    dh_.assign(std::size_t(s.hidden_p), 0.0);
    dw_att_.assign(std::size_t(s.block), 0.0);
  }

  // Adds d loss / d w into dw (both tape order) for loss = mean over the n
  // positions of -log p(tokens[pos + 1]).
  void run(TapeGpt& net, const double* w, double* dw, const std::vector<int>& tokens, int n) {
    const TapeShape& s = net.shape();
    for (int l = 0; l < s.layers; ++l) std::fill_n(net.dqkv(l, 0), std::size_t(n) * s.qkv_p, 0.0);
    const double dloss = 1.0 / n;
    for (int pos = n - 1; pos >= 0; --pos) {
      double* r = net.record(pos);
      double* g = grad_record(pos);
      // d(-log p_target) / d logit_o = p_o - [o == target]
      for (int o = 0; o < s.vocab; ++o) g[dlogits_ + o] = dloss * r[s.probs + o];
      g[dlogits_ + tokens[pos + 1]] -= dloss;
      double* dx = s.layers > 0 ? g + layers_.back().dx2 : demb_.data();
      std::fill_n(dx, s.embd, 0.0);
      simd::matvec_backward_x(w + s.lm_head, s.vocab_p, g + dlogits_, s.embd, dx);
      for (int l = s.layers - 1; l >= 0; --l) layer(net, w, l, pos);
      // x0 = rmsnorm(wte[token] + wpe[pos]): demb_ holds d/dx0
      std::fill_n(dxa_.data(), s.embd, 0.0);
      rmsnorm(r + s.emb, r[s.norm0 + 1], demb_.data(), dxa_.data(), s.embd);
      double* dwte = dw + s.wte + std::size_t(tokens[pos]) * s.embd;
      double* dwpe = dw + s.wpe + std::size_t(pos) * s.embd;
      for (int i = 0; i < s.embd; ++i) {
        dwte[i] += dxa_[i];
        dwpe[i] += dxa_[i];
      }
    }
    // The weights: every position's outer product dy x^T, one sum per weight.
    const std::size_t rec = std::size_t(s.record), grec = std::size_t(record_);
    const double* r = net.record(0);
    const double* g = grad_record(0);
    const int last = s.layers > 0 ? s.layer_acts.back().x2 : s.x0;
    simd::outer_sums(dw + s.lm_head, s.vocab_p, r + last, rec, g + dlogits_, grec, s.embd, n);
    for (int l = 0; l < s.layers; ++l) {
      const auto& a = s.layer_acts[l];
      const auto& p = s.layer_params[l];
      const auto& gl = layers_[l];
      simd::outer_sums(dw + p.fc2, s.embd_p, r + a.h, rec, g + gl.dx2, grec, s.hidden, n);
      simd::outer_sums(dw + p.fc1, s.hidden_p, r + a.xn2, rec, g + gl.dhp, grec, s.embd, n);
      simd::outer_sums(dw + p.wo, s.embd_p, r + a.xa, rec, g + gl.dx1, grec, s.embd, n);
      simd::outer_sums(dw + p.qkv, s.qkv_p, r + a.xn1, rec, net.dqkv(l, 0), s.qkv_p, s.embd, n);
    }
  }

 private:
  // The gradients of a layer's activations that are also its matrices'
  // output gradients, per position: d/dx2 (fc2's), d/d fc1's output, d/dx1 (wo's).
  struct LayerGrads {
    int dx2, dhp, dx1;
  };
  double* grad_record(int pos) { return grads_.data() + std::size_t(pos) * record_; }

  // d/dx2 of layer l is in its record; leaves d/d(its input) in the layer
  // below's d/dx2 (or demb_ for layer 0).
  void layer(TapeGpt& net, const double* w, int l, int pos) {
    const TapeShape& s = net.shape();
    const auto& a = s.layer_acts[l];
    const auto& p = s.layer_params[l];
    const auto& gl = layers_[l];
    const double* r = net.record(pos);
    double* g = grad_record(pos);
    // x2 = x1 + fc2(relu(fc1(rmsnorm(x1))))
    std::fill_n(dh_.data(), s.hidden, 0.0);
    simd::matvec_backward_x(w + p.fc2, s.embd_p, g + gl.dx2, s.hidden, dh_.data());
    for (int o = 0; o < s.hidden; ++o) g[gl.dhp + o] = r[a.hp + o] > 0 ? dh_[o] : 0.0;
    std::fill_n(dxa_.data(), s.embd, 0.0);
    simd::matvec_backward_x(w + p.fc1, s.hidden_p, g + gl.dhp, s.embd, dxa_.data());
    std::copy_n(g + gl.dx2, s.embd, g + gl.dx1);
    rmsnorm(r + a.x1, r[a.norms + 3], dxa_.data(), g + gl.dx1, s.embd);
    // x1 = x + wo(attention(qkv(rmsnorm(x))))
    std::fill_n(dxa_.data(), s.embd, 0.0);
    simd::matvec_backward_x(w + p.wo, s.embd_p, g + gl.dx1, s.embd, dxa_.data());
    attention(net, l, pos, dxa_.data());
    std::fill_n(dxa_.data(), s.embd, 0.0);
    simd::matvec_backward_x(w + p.qkv, s.qkv_p, net.dqkv(l, pos), s.embd, dxa_.data());
    double* dx = l > 0 ? g + layers_[l - 1].dx2 : demb_.data();
    std::copy_n(g + gl.dx1, s.embd, dx);
    rmsnorm(l > 0 ? r + s.layer_acts[l - 1].x2 : r + s.x0, r[a.norms + 1], dxa_.data(), dx, s.embd);
  }

  // y = x s, s = (sum(x^2) / n + eps)^-1/2:  dx += s dy - s^3 (dy . x) x / n
  static void rmsnorm(const double* x, double scale, const double* dy, double* dx, int n) {
    double dot = 0;
    for (int i = 0; i < n; ++i) dot += dy[i] * x[i];
    const double k = scale * scale * scale * dot / n;
    for (int i = 0; i < n; ++i) dx[i] += scale * dy[i] - k * x[i];
  }

  // Adds d/dq (this position's) and d/dk, d/dv (positions 0..pos) into the
  // cache's gradients, given dout = d loss / d (the attention output).
  void attention(TapeGpt& net, int l, int pos, const double* dout_all) {
    const TapeShape& s = net.shape();
    const auto& a = s.layer_acts[l];
    const double* r = net.record(pos);
    const double* q = net.qkv(l, pos);
    double* dq = net.dqkv(l, pos);
    const double* cache = net.qkv(l, 0);
    double* dcache = net.dqkv(l, 0);
    for (int h = 0; h < s.heads; ++h) {
      const int hs = h * s.head_dim;
      const double* w = r + a.att_w + h * s.block;
      const double* dout = dout_all + hs;
      // out = sum_t w_t v_t: dw_t = dout . v_t, dv_t += w_t dout
      double weighted = 0;
      for (int t = 0; t <= pos; ++t) {
        const std::size_t at = std::size_t(t) * s.qkv_p + 2 * s.embd + hs;
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
        const std::size_t at = std::size_t(t) * s.qkv_p + s.embd + hs;
        for (int j = 0; j < s.head_dim; ++j) {
          dq[hs + j] += d * cache[at + j];
          dcache[at + j] += d * q[hs + j];
        }
      }
    }
  }

  int record_ = 0, dlogits_ = 0;  // a position's gradient record: its size, lm_head's dy
  std::vector<LayerGrads> layers_;
  simd::Doubles grads_;            // a gradient record per position
  simd::Doubles demb_, dxa_, dh_;  // one position's other gradients
  std::vector<double> dw_att_;     // attention weights' gradients, one head
};

}  // namespace mga
