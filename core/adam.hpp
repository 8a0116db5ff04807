// microgpt.py's Adam with linear learning-rate decay, once for every engine:
// apply_adam() is its update, parameterised on where the parameters live (Gpt's
// nodes, or the tapes' flat arrays, several lanes at a time) and on the
// arithmetic of `grad ** 2`, `v_hat ** 0.5` and the two divisions by the bias
// corrections (microgpt.py's, or the fast tape's).
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

#include "core/python_pow.hpp"
#include "core/tape_simd.hpp"

namespace mga {

// microgpt.py's hyperparameters.
struct AdamHyperparameters {
  static constexpr double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps = 1e-8;
};

// What the update at step `step` (from 0) of `steps` needs besides the
// parameters. microgpt.py recomputes the corrections per parameter; they are
// the same bits every time.
struct AdamStep {
  using Hyper = AdamHyperparameters;
  AdamStep(int step, int steps)
      : lr_t(Hyper::learning_rate * (1 - double(step) / steps)),
        m_correction(1 - python_pow(Hyper::beta1, step + 1)),
        v_correction(1 - python_pow(Hyper::beta2, step + 1)),
        inv_m_correction(1 / m_correction),
        inv_v_correction(1 / v_correction) {}

  double lr_t, m_correction, v_correction;
  double inv_m_correction, inv_v_correction;
};

// microgpt.py's arithmetic: Python's `**` is libm's pow (python_pow), `grad **
// 2` included, and m / m_correction a division. Lane by lane for a vector
// (+, -, *, / are IEEE's, so a lane has a scalar's bits).
struct PythonArithmetic {
  template <class T>
  static T square(T grad) {
    return lanewise(grad, [](double x) { return python_pow(x, 2); });
  }
  template <class T>
  static T root(T v_hat) {
    return lanewise(v_hat, [](double x) { return python_pow(x, 0.5); });
  }
  template <class T>
  static T unbias(T moment, double correction, double /*inverse*/) {
    return moment / correction;
  }

 private:
  template <class T, class Fn>
  static T lanewise(T x, Fn&& fn) {
    if constexpr (sizeof(T) == sizeof(double)) {
      return fn(x);
    } else {
      T out;
      for (int k = 0; k < simd::kLanes; ++k) out[k] = fn(x[k]);
      return out;
    }
  }
};

// The fast tape's: grad * grad, sqrt, and a multiplication by the
// correction's reciprocal. Last-bit differences from microgpt.py's.
struct FastArithmetic {
  static simd::vd square(simd::vd grad) { return grad * grad; }
  static simd::vd root(simd::vd v_hat) { return simd::sqrt(v_hat); }
  static simd::vd unbias(simd::vd moment, double /*correction*/, double inverse) {
    return moment * inverse;
  }
};

// Adam's update of every parameter in `parameters` (NodeParameters or
// ParameterArrays below), which calls the update with each parameter's
// value, gradient and two moments, as doubles or as vectors of kLanes.
template <class Arithmetic, class Parameters>
void apply_adam(const AdamStep& step, Parameters&& parameters) {
  using Hyper = AdamHyperparameters;
  parameters.for_each([step](auto& data, auto& grad, auto& m, auto& v) {
    using T = std::remove_cvref_t<decltype(grad)>;  // double, or simd::vd
    const T g = grad;
    const T m_new = Hyper::beta1 * m + (1 - Hyper::beta1) * g;
    m = m_new;
    const T v_new = Hyper::beta2 * v + (1 - Hyper::beta2) * Arithmetic::square(g);
    v = v_new;
    const T m_hat = Arithmetic::unbias(m_new, step.m_correction, step.inv_m_correction);
    const T v_hat = Arithmetic::unbias(v_new, step.v_correction, step.inv_v_correction);
    data = data - step.lr_t * m_hat / (Arithmetic::root(v_hat) + Hyper::eps);
    grad = T{};  // 0.0 in every lane
  });
}

// Parameters that are nodes (Gpt's), their moments in two arrays: one at a time.
template <class Node>
struct NodeParameters {
  std::span<Node> nodes;
  double* m;
  double* v;

  template <class Update>
  void for_each(Update update) const {
    Node* const node = nodes.data();  // local copies stay in registers across the calls to pow
    double *const m_0 = m, *const v_0 = v;
    const std::size_t n = nodes.size();
    for (std::size_t i = 0; i < n; ++i) update(node[i].data, node[i].grad, m_0[i], v_0[i]);
  }
};

// Parameters in four arrays of `size`: kLanes at a time, then one at a time.
// Aligned: every array 64-byte aligned and size a multiple of kLanes.
// updated(i, data) sees each new value (a double, or kLanes of them from i).
template <bool Aligned, class Updated>
struct ParameterArrays {
  double* data;
  double* grad;
  double* m;
  double* v;
  std::size_t size;
  Updated updated;

  template <class Update>
  void for_each(Update update) const {
    // The vectors are read and written in place. The pointers are local
    // copies: a vector store may alias anything (simd::vd), this struct included.
    double *const data_0 = data, *const grad_0 = grad, *const m_0 = m, *const v_0 = v;
    const std::size_t n = size;
    const Updated updated_0 = updated;
    std::size_t i = 0;
    for (; i + simd::kLanes <= n; i += simd::kLanes) {
      if constexpr (Aligned) {
        update(simd::at(data_0 + i), simd::at(grad_0 + i), simd::at(m_0 + i), simd::at(v_0 + i));
      } else {
        update(simd::at_unaligned(data_0 + i), simd::at_unaligned(grad_0 + i),
               simd::at_unaligned(m_0 + i), simd::at_unaligned(v_0 + i));
      }
      updated_0(i, simd::loadu(data_0 + i));
    }
    if constexpr (!Aligned) {
      for (; i < n; ++i) {
        update(data_0[i], grad_0[i], m_0[i], v_0[i]);
        updated_0(i, data_0[i]);
      }
    }
  }
};

struct NothingToUpdate {
  template <class T>
  void operator()(std::size_t, const T&) const {}
};

template <bool Aligned, class Updated = NothingToUpdate>
ParameterArrays<Aligned, Updated> parameter_arrays(double* data, double* grad, double* m, double* v,
                                                   std::size_t size, Updated updated = {}) {
  return {data, grad, m, v, size, updated};
}

}  // namespace mga
