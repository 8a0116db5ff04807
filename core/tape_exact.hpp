// The exact tape's backward pass (--engine tape-exact): the node graph's
// arithmetic without the nodes. Every gradient is computed as the node graph
// computes it (core/graph.hpp: a node's grad starts at 0 and adds
// local_grad * parent_grad for each parent, in the order microgpt.py's DFS
// reaches the parents), so the step's parameter gradients have the node
// graph's bits.
//
// That order is known without a graph: core/model.hpp makes the nodes so that
// reverse creation order gives every node its parents in the DFS's order, so
// each scalar's parents add, newest first, in the order the model made them.
// Within one position: the layers newest first, and within a layer the
// residual add before the rmsnorm's products, fc2's rows before fc1's, rows
// of a matrix from the last to the first (lm_head's target row last; the
// query, key and value rows head by head, as Gpt::query_key_value makes
// them); across positions, the last position first, which is the order in
// which a key, a value or a parameter receives its terms. The stages run as
// the fast tape's (core/tape_fast.hpp), each over the positions from the last
// to the first: a scalar that belongs to one position gets all its terms in
// one stage or in stages that run in the node graph's order, and a key or
// value gets its terms from one stage, last position first. A parameter gets
// one term per position, so the weights' gradients are summed at the end,
// last position first.
//
// `0.0 + term` is a node's first addition: it turns -0.0 into +0.0 as the
// node graph does (a gradient summed from +0.0 is never -0.0, so a copy of one
// is the node graph's `0.0 + 1.0 * g`, and adding a term that is +-0.0 to such
// a sum changes nothing).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "core/model.hpp"
#include "core/ops.hpp"
#include "core/tape.hpp"

namespace mga {

class TapeExactBackward {
 public:
  // Scratch for `positions` positions; a longer document grows it.
  TapeExactBackward(const TapeShape& s, const ParamLayout& layout, int positions)
      : layout_(layout), gw_(std::size_t(positions)), gdot_(std::size_t(positions)) {
    // Row indices from the largest matrix's last row down to 0; a matrix of
    // r rows uses the last r of them.
    descending_.resize(std::size_t(std::max({s.vocab, s.hidden, 3 * s.embd})));
    std::iota(descending_.rbegin(), descending_.rend(), 0);
    // [q | k | v]'s rows (attn_wq, attn_wk, attn_wv follow one another in
    // ParamLayout) in Gpt::query_key_value's order, reversed: per head, last
    // first, its value rows, then its key and query rows (alternating at
    // position 0, where the key is the position's own).
    for (int first : {1, 0}) {
      std::vector<int>& order = first ? qkv_first_ : qkv_later_;
      for (int hs = s.embd - s.head_dim; hs >= 0; hs -= s.head_dim) {
        for (int j = hs + s.head_dim - 1; j >= hs; --j) order.push_back(2 * s.embd + j);
        for (int j = hs + s.head_dim - 1; j >= hs; --j) {
          order.push_back(s.embd + j);
          if (first) order.push_back(j);
        }
        for (int j = hs + s.head_dim - 1; j >= hs && !first; --j) order.push_back(j);
      }
    }
    lm_order_.resize(std::size_t(s.vocab));
  }

  // Adds d loss / d p into dp (both ParamLayout order) for loss = mean over
  // the n positions of -log p(tokens[pos + 1]), as Gpt::loss builds it.
  void run(TapeGpt& net, const double* p, double* dp, const std::vector<int>& tokens, int n) {
    const TapeShape& s = net.shape();
    if (gw_.size() < std::size_t(n)) {
      gw_.resize(std::size_t(n));
      gdot_.resize(std::size_t(n));
    }
    std::fill_n(net.dqkv(0, 0), std::size_t(n) * s.kv_stride, 0.0);  // every layer's
    // loss = sum(losses) * (1 / n); every losses[pos] gets its grad through the sum
    const double dloss = 0.0 + (1.0 / n) * 1.0;
    for (int pos = n - 1; pos >= 0; --pos) {
      double* g = net.grad(pos);
      const int target = tokens[pos + 1];
      cross_entropy(s, net.record(pos), target, dloss, g + s.dlogits);
      // lm_head's rows: the target's was made first
      std::copy_if(descending_.end() - s.vocab, descending_.end(), lm_order_.begin(),
                   [target](int o) { return o != target; });
      lm_order_.back() = target;
      std::fill_n(g + s.top_grad(), s.embd, 0.0);
      rows_to_dx(p + layout_.lm_head.first, s.embd, lm_order_, g + s.dlogits, g + s.top_grad());
    }
    for (int l = s.layers - 1; l >= 0; --l) {
      for (int pos = n - 1; pos >= 0; --pos) mlp_and_wo(net, p, l, pos);
      for (int pos = n - 1; pos >= 0; --pos) attention(net, l, pos);
      for (int pos = n - 1; pos >= 0; --pos) {
        const double* r = net.record(pos);
        double* g = net.grad(pos);
        const std::vector<int>& order = pos == 0 ? qkv_first_ : qkv_later_;
        std::fill_n(g + s.dxn, s.embd, 0.0);
        rows_to_dx(p + layout_.layers[l].attn_wq.first, s.embd, order, net.dqkv(l, pos), g + s.dxn);
        rmsnorm(s, r + s.layer_input(l), r + s.layer_acts[l].norms, g + s.dxn,
                g + s.layer_input_grad(l));
      }
    }
    for (int pos = n - 1; pos >= 0; --pos) {  // x0 = rmsnorm(emb), emb = wte[token] + wpe[pos]
      const double* r = net.record(pos);
      double* g = net.grad(pos);
      std::fill_n(g + s.dxn, s.embd, 0.0);
      rmsnorm(s, r + s.emb, r + s.norm0, g + s.dx0, g + s.dxn);
      double* dwte = dp + layout_.wte.first + std::size_t(tokens[pos]) * s.embd;
      double* dwpe = dp + layout_.wpe.first + std::size_t(pos) * s.embd;
      for (int i = 0; i < s.embd; ++i) {
        dwte[i] += 1.0 * g[s.dxn + i];
        dwpe[i] += 1.0 * g[s.dxn + i];
      }
    }
    // The weights: w[o][i] += x[i] * g[o], one term per position.
    weight_grads(dp, layout_.lm_head, net.activations(s.layer_input(s.layers)),
                 net.gradients(s.dlogits), n);
    for (int l = 0; l < s.layers; ++l) {
      const auto& a = s.layer_acts[l];
      const auto& d = s.layer_grads[l];
      const auto& m = layout_.layers[l];
      weight_grads(dp, m.mlp_fc2, net.activations(a.h), net.gradients(d.dx2), n);
      weight_grads(dp, m.mlp_fc1, net.activations(a.xn2), net.gradients(d.dhp), n);
      weight_grads(dp, m.attn_wo, net.activations(a.xa), net.gradients(d.dx1), n);
      const Matrix qkv{m.attn_wq.first, 3 * s.embd, s.embd};
      weight_grads(dp, qkv, net.activations(a.xn1), net.dcache(l, 0), n);
    }
  }

 private:
  // losses[pos] = -log(probs[target]), probs = exps * sum(exps)**-1: d loss /
  // d logit_o into dlogits[o].
  static void cross_entropy(const TapeShape& s, const double* r, int target, double dloss,
                            double* dlogits) {
    const double* e = r + s.exps;
    const double total = r[s.ce], inv_total = r[s.ce + 1];
    const double p = r[s.probs + target], log_p = -r[s.ce + 2];
    const double dlog = 0.0 + -1.0 * dloss;  // loss = log(p) * -1
    const double dprob = 0.0 + ops::Log::local_grad(p, log_p) * dlog;
    const double de_target = 0.0 + inv_total * dprob;  // p = e_target * inv_total
    const double dinv = 0.0 + e[target] * dprob;
    const double dtotal = 0.0 + ops::Pow{-1.0}.local_grad(total, inv_total) * dinv;  // total**-1
    for (int o = 0; o < s.vocab; ++o) {
      const double de = (o == target ? de_target : 0.0) + 1.0 * dtotal;  // total = sum(exps)
      // e = exp(logit - max), whose local gradient is e (ops::Exp); logit - max is logit + -max
      dlogits[o] = 0.0 + 1.0 * (0.0 + e[o] * de);
    }
  }

  // x2 = fc2 + x1 (residual add), fc2's rows, relu, fc1's rows, rmsnorm(x1),
  // x1 = wo + x (residual add), wo's rows: from d/dx2 to d/dxa, and the
  // residual's term of d/dx (the layer's input).
  void mlp_and_wo(TapeGpt& net, const double* p, int l, int pos) {
    const TapeShape& s = net.shape();
    const auto& a = s.layer_acts[l];
    const auto& d = s.layer_grads[l];
    const auto& m = layout_.layers[l];
    const double* r = net.record(pos);
    double* g = net.grad(pos);
    std::copy_n(g + d.dx2, s.embd, g + d.dx1);  // x1's first term: the residual add
    std::fill_n(g + d.dhp, s.hidden, 0.0);
    rows_to_dx(p + m.mlp_fc2.first, s.hidden, descending(s.embd), g + d.dx2, g + d.dhp);
    for (int o = 0; o < s.hidden; ++o)
      g[d.dhp + o] = 0.0 + ops::Relu::local_grad(r[a.hp + o], r[a.h + o]) * g[d.dhp + o];
    std::fill_n(g + s.dxn, s.embd, 0.0);
    rows_to_dx(p + m.mlp_fc1.first, s.embd, descending(s.hidden), g + d.dhp, g + s.dxn);
    rmsnorm(s, r + a.x1, r + a.norms + 2, g + s.dxn, g + d.dx1);
    std::copy_n(g + d.dx1, s.embd, g + s.layer_input_grad(l));  // x's first term
    std::fill_n(g + d.dxa, s.embd, 0.0);
    rows_to_dx(p + m.attn_wo.first, s.embd, descending(s.embd), g + d.dx1, g + d.dxa);
  }

  // The rows of a matrix of `rows` rows, from the last to the first.
  std::span<const int> descending(int rows) const {
    return {descending_.data() + descending_.size() - rows, std::size_t(rows)};
  }

  // Each row r of w (row-major, cols long) is sum(w[r][i] * x[i]): dx[i] +=
  // w[r][i] * g[r] for r in `order`, each input's terms in that order,
  // several inputs in vector lanes.
  static void rows_to_dx(const double* w, int cols, std::span<const int> order, const double* g,
                         double* dx) {
    using simd::kLanes;
    const int count = int(order.size());
    int i = 0;
    for (; i + 2 * kLanes <= cols; i += 2 * kLanes) {
      simd::vd a0 = simd::loadu(dx + i), a1 = simd::loadu(dx + i + kLanes);
      for (int k = 0; k < count; ++k) {
        const double* row = w + std::size_t(order[k]) * cols + i;
        const simd::vd gr = simd::splat(g[order[k]]);
        a0 += simd::loadu(row) * gr;
        a1 += simd::loadu(row + kLanes) * gr;
      }
      simd::storeu(dx + i, a0);
      simd::storeu(dx + i + kLanes, a1);
    }
    for (; i < cols; ++i) {
      double a = dx[i];
      for (int k = 0; k < count; ++k) a += w[std::size_t(order[k]) * cols + i] * g[order[k]];
      dx[i] = a;
    }
  }

  // dw[o][i] += x_pos[i] * g_pos[o] for the m.rows x m.cols matrix m, the
  // positions from the last to the first.
  static void weight_grads(double* dp, const Matrix& m, simd::Strided<const double> x,
                           simd::Strided<const double> g, int n) {
    using simd::kLanes;
    const double *const xs = x.first, *const gs = g.first;
    const std::size_t xstride = x.stride, gstride = g.stride;
    for (int o = 0; o < m.rows; ++o) {
      double* dw = dp + m.first + std::size_t(o) * m.cols;
      int i = 0;
      for (; i + kLanes <= m.cols; i += kLanes) {
        simd::vd acc = simd::loadu(dw + i);
        for (int pos = n - 1; pos >= 0; --pos)
          acc += simd::loadu(xs + pos * xstride + i) * simd::splat(gs[pos * gstride + o]);
        simd::storeu(dw + i, acc);
      }
      for (; i < m.cols; ++i) {
        for (int pos = n - 1; pos >= 0; --pos)
          dw[i] += xs[pos * xstride + i] * gs[pos * gstride + o];
      }
    }
  }

  // out_i = x_i * scale, scale = (ms + 1e-5)**-0.5, ms = sum(x_i * x_i) * (1 / n):
  // adds into dx (which may hold a residual add's term already).
  static void rmsnorm(const TapeShape& s, const double* x, const double* norm, const double* dout,
                      double* dx) {
    double dscale = 0.0;
    for (int i = s.embd - 1; i >= 0; --i) {
      dx[i] += norm[1] * dout[i];
      dscale += x[i] * dout[i];
    }
    const double dms_eps = 0.0 + ops::Pow{-0.5}.local_grad(norm[0], norm[1]) * dscale;
    const double dms = 0.0 + s.inv_embd * (0.0 + 1.0 * dms_eps);
    for (int i = 0; i < s.embd; ++i) {  // x_i * x_i: x_i is both children
      const double dsquare = 0.0 + 1.0 * dms;
      dx[i] += x[i] * dsquare;
      dx[i] += x[i] * dsquare;
    }
  }

  // Per head: out_j = sum_t w_t * v_t[j] (chains made j = 0, 1, ...), w the
  // softmax of logit_t = (q . k_t) * head_dim**-0.5. Adds d/dq of this
  // position and d/dk, d/dv of positions 0..pos into the cache's gradients.
  void attention(TapeGpt& net, int l, int pos) {
    const TapeShape& s = net.shape();
    const auto& a = s.layer_acts[l];
    const double* r = net.record(pos);
    const double* dout = net.grad(pos) + s.layer_grads[l].dxa;
    const double* q = net.qkv(l, pos);
    double* dq = net.dqkv(l, pos);
    for (int h = 0; h < s.heads; ++h) {
      const int hs = h * s.head_dim;
      const double* e = net.attention_exps(l, pos) + h * (pos + 1);
      const double* w = net.attention_weights(l, pos) + h * (pos + 1);
      const double total = r[a.att_total + h], inv_total = ops::Pow{-1.0}.value(total);
      std::fill_n(gw_.begin(), pos + 1, 0.0);
      for (int j = s.head_dim - 1; j >= 0; --j) {
        for (int t = pos; t >= 0; --t) {
          const double* v = net.qkv(l, t) + 2 * s.embd + hs;
          double* dv = net.dqkv(l, t) + 2 * s.embd + hs;
          gw_[t] += v[j] * dout[hs + j];
          dv[j] += w[t] * dout[hs + j];
        }
      }
      // w_t = e_t * total**-1 (a ** node per t), total = sum(e), e_t = exp(logit_t - max)
      const double dinv_local = ops::Pow{-1.0}.local_grad(total, inv_total);
      double dtotal = 0.0;
      for (int t = pos; t >= 0; --t) {
        gdot_[t] = 0.0 + inv_total * gw_[t];  // d/de_t, first term
        dtotal += dinv_local * (0.0 + e[t] * gw_[t]);
      }
      for (int t = pos; t >= 0; --t) {
        const double de = gdot_[t] + 1.0 * dtotal;
        const double dlogit = 0.0 + 1.0 * (0.0 + e[t] * de);
        gdot_[t] = 0.0 + s.inv_sqrt_head_dim * dlogit;
      }
      for (int t = pos; t >= 0; --t) {
        const double* k = net.qkv(l, t) + s.embd + hs;
        double* dk = net.dqkv(l, t) + s.embd + hs;
        for (int j = 0; j < s.head_dim; ++j) {
          dq[hs + j] += k[j] * gdot_[t];
          dk[j] += q[hs + j] * gdot_[t];
        }
      }
    }
  }

  const ParamLayout& layout_;
  std::vector<int> descending_, qkv_first_, qkv_later_, lm_order_;  // rows' orders
  std::vector<double> gw_, gdot_;  // one head's attention weights' and logits' gradients
};

}  // namespace mga
