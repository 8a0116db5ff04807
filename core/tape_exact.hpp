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
// one stage or in stages that run in the node graph's order, and a key, value
// or parameter gets its terms from one stage, last position first.
//
// `0.0 + term` is a node's first addition: it turns -0.0 into +0.0 as the
// node graph does (a gradient summed from +0.0 is never -0.0, so a copy of one
// is the node graph's `0.0 + 1.0 * g`). A row whose gradient is 0 would add
// exact zeros to sums that never hold -0.0, so it is skipped.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "core/model.hpp"
#include "core/tape.hpp"

namespace mga {

class TapeExactBackward {
 public:
  TapeExactBackward(const TapeShape& s, const ParamLayout& layout)
      : layout_(layout), gw_(std::size_t(s.block)), gdot_(std::size_t(s.block)) {}

  // Adds d loss / d p into dp (both ParamLayout order) for loss = mean over
  // the n positions of -log p(tokens[pos + 1]), as Gpt::loss builds it.
  void run(TapeGpt& net, const double* p, double* dp, const std::vector<int>& tokens, int n) {
    const TapeShape& s = net.shape();
    for (int l = 0; l < s.layers; ++l) std::fill_n(net.dqkv(l, 0), std::size_t(n) * s.qkv_p, 0.0);
    // loss = sum(losses) * (1 / n); every losses[pos] gets its grad through the sum
    const double dloss = 0.0 + (1.0 / n) * 1.0;
    for (int pos = n - 1; pos >= 0; --pos) {
      const double* r = net.record(pos);
      double* g = net.grad(pos);
      const int target = tokens[pos + 1];
      cross_entropy(s, r, target, dloss, g + s.dlogits);
      rows_.clear();  // lm_head's rows, the target's made first
      for (int o = s.vocab - 1; o >= 0; --o) {
        if (o != target) rows_.push_back(row(layout_.lm_head, o, g[s.dlogits + o], p, dp));
      }
      rows_.push_back(row(layout_.lm_head, target, g[s.dlogits + target], p, dp));
      std::fill_n(g + s.top_grad(), s.embd, 0.0);
      rows_backward(r + s.layer_input(s.layers), s.embd, g + s.top_grad());
    }
    for (int l = s.layers - 1; l >= 0; --l) {
      for (int pos = n - 1; pos >= 0; --pos) mlp_and_wo(net, p, dp, l, pos);
      for (int pos = n - 1; pos >= 0; --pos) attention(net, l, pos);
      for (int pos = n - 1; pos >= 0; --pos) {
        const double* r = net.record(pos);
        double* g = net.grad(pos);
        std::fill_n(g + s.dxn, s.embd, 0.0);
        query_key_value(net, l, pos, p, dp);
        rows_backward(r + s.layer_acts[l].xn1, s.embd, g + s.dxn);
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
  }

 private:
  struct Row {
    const double* w;  // the row's parameters
    double* dw;       // their gradients
    double g;         // d loss / d (the row's output)
  };
  Row row(const Matrix& m, int o, double g, const double* p, double* dp) const {
    const std::size_t at = m.first + std::size_t(o) * m.cols;
    return {p + at, dp + at, g};
  }

  // losses[pos] = -log(probs[target]), probs = exps * sum(exps)**-1: d loss /
  // d logit_o into dlogits[o].
  static void cross_entropy(const TapeShape& s, const double* r, int target, double dloss,
                            double* dlogits) {
    const double* e = r + s.exps;
    const double total = r[s.ce], inv_total = r[s.ce + 1];
    const double dlog = 0.0 + -1.0 * dloss;                       // loss = log(p) * -1
    const double dprob = 0.0 + (1 / r[s.probs + target]) * dlog;  // log(p)
    const double de_target = 0.0 + inv_total * dprob;             // p = e_target * inv_total
    const double dinv = 0.0 + e[target] * dprob;
    const double dtotal = 0.0 + (-1.0 * std::pow(total, -2.0)) * dinv;  // inv = total**-1
    for (int o = 0; o < s.vocab; ++o) {
      const double de = (o == target ? de_target : 0.0) + 1.0 * dtotal;  // total = sum(exps)
      dlogits[o] = 0.0 + 1.0 * (0.0 + e[o] * de);                        // e = exp(logit - max)
    }
  }

  // x2 = fc2 + x1 (residual add), fc2's rows, relu, fc1's rows, rmsnorm(x1),
  // x1 = wo + x (residual add), wo's rows: from d/dx2 to d/dxa, and the
  // residual's term of d/dx (the layer's input).
  void mlp_and_wo(TapeGpt& net, const double* p, double* dp, int l, int pos) {
    const TapeShape& s = net.shape();
    const auto& a = s.layer_acts[l];
    const auto& d = s.layer_grads[l];
    const auto& lp = layout_.layers[l];
    const double* r = net.record(pos);
    double* g = net.grad(pos);
    std::copy_n(g + d.dx2, s.embd, g + d.dx1);  // x1's first term: the residual add
    std::fill_n(g + d.dhp, s.hidden, 0.0);
    linear(lp.mlp_fc2, g + d.dx2, r + a.h, g + d.dhp, p, dp);
    for (int o = 0; o < s.hidden; ++o)
      g[d.dhp + o] = 0.0 + (r[a.hp + o] > 0 ? 1.0 : 0.0) * g[d.dhp + o];
    std::fill_n(g + s.dxn, s.embd, 0.0);
    linear(lp.mlp_fc1, g + d.dhp, r + a.xn2, g + s.dxn, p, dp);
    rmsnorm(s, r + a.x1, r + a.norms + 2, g + s.dxn, g + d.dx1);
    std::copy_n(g + d.dx1, s.embd, g + s.layer_input_grad(l));  // x's first term
    std::fill_n(g + d.dxa, s.embd, 0.0);
    linear(lp.attn_wo, g + d.dx1, r + a.xa, g + d.dxa, p, dp);
  }

  // Rows in Gpt::query_key_value's order, reversed: per head, newest first,
  // its value rows, then its key and query rows (alternating at position 0).
  void query_key_value(TapeGpt& net, int l, int pos, const double* p, double* dp) {
    const TapeShape& s = net.shape();
    const auto& lp = layout_.layers[l];
    const double* g = net.dqkv(l, pos);
    rows_.clear();
    for (int hs = s.embd - s.head_dim; hs >= 0; hs -= s.head_dim) {
      for (int j = hs + s.head_dim - 1; j >= hs; --j)
        rows_.push_back(row(lp.attn_wv, j, g[2 * s.embd + j], p, dp));
      for (int j = hs + s.head_dim - 1; j >= hs; --j) {
        rows_.push_back(row(lp.attn_wk, j, g[s.embd + j], p, dp));
        if (pos == 0) rows_.push_back(row(lp.attn_wq, j, g[j], p, dp));
      }
      if (pos != 0) {
        for (int j = hs + s.head_dim - 1; j >= hs; --j)
          rows_.push_back(row(lp.attn_wq, j, g[j], p, dp));
      }
    }
  }

  // out = m x, its rows made first to last: dx gets them last to first.
  void linear(const Matrix& m, const double* g, const double* x, double* dx, const double* p,
              double* dp) {
    rows_.clear();
    for (int o = m.rows - 1; o >= 0; --o) rows_.push_back(row(m, o, g[o], p, dp));
    rows_backward(x, m.cols, dx);
  }

  // Each row is sum(w[i] * x[i]): dx[i] += w[i] * g for the rows in rows_'s
  // order (several inputs in vector lanes, each input's terms in order), and
  // dw[i] += x[i] * g.
  void rows_backward(const double* x, int cols, double* dx) {
    using simd::kLanes;
    int i = 0;
    for (; i + 2 * kLanes <= cols; i += 2 * kLanes) {
      simd::vd a0 = simd::loadu(dx + i), a1 = simd::loadu(dx + i + kLanes);
      for (const Row& row : rows_) {
        if (row.g == 0) continue;
        a0 += simd::loadu(row.w + i) * row.g;
        a1 += simd::loadu(row.w + i + kLanes) * row.g;
      }
      simd::storeu(dx + i, a0);
      simd::storeu(dx + i + kLanes, a1);
    }
    for (; i < cols; ++i) {
      for (const Row& row : rows_) dx[i] += row.g == 0 ? 0.0 : row.w[i] * row.g;
    }
    for (const Row& row : rows_) {
      if (row.g == 0) continue;
      int k = 0;
      for (; k + kLanes <= cols; k += kLanes)
        simd::storeu(row.dw + k, simd::loadu(row.dw + k) + simd::loadu(x + k) * row.g);
      for (; k < cols; ++k) row.dw[k] += x[k] * row.g;
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
    const double dms_eps = 0.0 + (-0.5 * std::pow(norm[0], -1.5)) * dscale;
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
    const double* dout = net.grad(pos) + s.layer_grads[l].dxa;
    const double* r = net.record(pos);
    const double* q = net.qkv(l, pos);
    double* dq = net.dqkv(l, pos);
    for (int h = 0; h < s.heads; ++h) {
      const int hs = h * s.head_dim;
      const double* e = r + a.att_exp + h * s.block;
      const double* w = r + a.att_w + h * s.block;
      const double total = r[a.att_total + h], inv_total = std::pow(total, -1.0);
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
      const double dinv_local = -1.0 * std::pow(total, -2.0);
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
  std::vector<double> gw_, gdot_;  // one head's attention weights' and logits' gradients
  std::vector<Row> rows_;
};

}  // namespace mga
