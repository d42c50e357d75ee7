// LightGBM text models (model.txt, Booster.save_model, the CLI's output_model).
//
// Accepts boosting gbdt, rf (average_output), dart and goss; the objectives binary, multiclass,
// multiclassova, the regression family (regression, regression_l1, huber, fair, quantile, mape, with
// or without sqrt), poisson, gamma, tweedie, lambdarank, rank_xendcg, cross_entropy and
// cross_entropy_lambda; numerical splits with every decision_type (default-left, missing type
// None/Zero/NaN), categorical bitset splits and linear trees.
#pragma once

#include "formats/model_loader.h"

namespace orchard {

class LightgbmTextLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "lightgbm-text"; }
  bool recognizes(std::string_view bytes) const override;
  Model load(std::string_view bytes, const std::string& where) const override;
};

}  // namespace orchard
