#include "engine/output_transform.h"

#include <algorithm>
#include <cmath>

namespace orchard {
namespace {

// T is float for XGBoost (which computes transforms in float: expf, float division) and double for
// LightGBM; the arithmetic below is the libraries' own, in their order.
template <typename T>
void transform_in(const OutputTransform& transform, const double* margins, int n, double* out) {
  switch (transform.kind) {
    case TransformKind::kIdentity:
      for (int i = 0; i < n; ++i) out[i] = static_cast<double>(static_cast<T>(margins[i]));
      return;
    case TransformKind::kSigmoid:
      for (int i = 0; i < n; ++i) {
        const T x = static_cast<T>(margins[i]);
        const T scaled = transform.scale == 1.0 ? x : static_cast<T>(static_cast<T>(transform.scale) * x);
        out[i] = static_cast<double>(T(1) / (T(1) + std::exp(-scaled)));
      }
      return;
    case TransformKind::kExp:
      for (int i = 0; i < n; ++i) out[i] = static_cast<double>(std::exp(static_cast<T>(margins[i])));
      return;
    case TransformKind::kLog1pExp:
      for (int i = 0; i < n; ++i) out[i] = static_cast<double>(std::log1p(std::exp(static_cast<T>(margins[i]))));
      return;
    case TransformKind::kSquareSigned:
      for (int i = 0; i < n; ++i) {
        const T x = static_cast<T>(margins[i]);
        out[i] = static_cast<double>((x < T(0) ? -x : x) * x);
      }
      return;
    case TransformKind::kHinge:
      for (int i = 0; i < n; ++i) out[i] = static_cast<T>(margins[i]) > T(0) ? 1.0 : 0.0;
      return;
    case TransformKind::kSoftmax: {
      T wmax = static_cast<T>(margins[0]);
      for (int i = 1; i < n; ++i) wmax = std::max(static_cast<T>(margins[i]), wmax);
      // Both libraries accumulate the denominator in double.
      double wsum = 0.0;
      T exps[64];
      const bool fits = n <= 64;
      for (int i = 0; i < n; ++i) {
        const T e = std::exp(static_cast<T>(margins[i]) - wmax);
        if (fits) exps[i] = e;
        out[i] = static_cast<double>(e);
        wsum += static_cast<double>(e);
      }
      for (int i = 0; i < n; ++i) {
        const T e = fits ? exps[i] : static_cast<T>(out[i]);
        out[i] = static_cast<double>(e / static_cast<T>(wsum));
      }
      return;
    }
    case TransformKind::kSigmoidPair: {
      // scikit-learn: proba[:, 1] = expit(x); proba[:, 0] = 1 - proba[:, 1].
      const T x = static_cast<T>(margins[0]);
      const T scaled = transform.scale == 1.0 ? x : static_cast<T>(static_cast<T>(transform.scale) * x);
      const T p = T(1) / (T(1) + std::exp(-scaled));
      out[0] = static_cast<double>(T(1) - p);
      out[1] = static_cast<double>(p);
      return;
    }
    case TransformKind::kSigmoidNormalized: {
      // scikit-learn one-vs-rest: expit per class, then divided by the row's sum.
      T sum = T(0);
      for (int i = 0; i < n; ++i) {
        const T p = T(1) / (T(1) + std::exp(-static_cast<T>(margins[i])));
        out[i] = static_cast<double>(p);
        sum += p;
      }
      for (int i = 0; i < n; ++i) out[i] = static_cast<double>(static_cast<T>(out[i]) / sum);
      return;
    }
    case TransformKind::kIsolationScore:
      // scikit-learn: score_samples = -(2 ** -x); decision_function = score_samples - offset_.
      out[0] = static_cast<double>(-std::pow(T(2), -static_cast<T>(margins[0])) - static_cast<T>(transform.offset));
      return;
    case TransformKind::kArgMax: {
      int best = 0;
      for (int i = 1; i < n; ++i) {
        if (static_cast<T>(margins[i]) > static_cast<T>(margins[best])) best = i;
      }
      out[0] = static_cast<double>(best);
      return;
    }
  }
}

}  // namespace

void apply_output_transform(const OutputTransform& transform, const double* margins, int num_outputs, double* out) {
  if (transform.precision == Precision::kFloat32) {
    transform_in<float>(transform, margins, num_outputs, out);
  } else {
    transform_in<double>(transform, margins, num_outputs, out);
  }
}

}  // namespace orchard
