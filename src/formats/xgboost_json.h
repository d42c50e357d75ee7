// XGBoost models as Booster.save_model writes them: JSON (.json) and Universal Binary JSON (.ubj).
//
// Accepts gbtree, dart and gblinear boosters from XGBoost 1.0 onwards; the objectives
// binary:logistic/logitraw/hinge, reg:squarederror/squaredlogerror/logistic/pseudohubererror/
// absoluteerror/quantileerror, count:poisson, reg:gamma, reg:tweedie, multi:softprob/softmax and
// rank:pairwise/ndcg/map; numerical and categorical splits. Refuses multi-target trees and other
// objectives, naming them.
#pragma once

#include "formats/model_loader.h"

namespace orchard {

class XgboostJsonLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "xgboost-json"; }
  bool recognizes(std::string_view bytes) const override;
  Model load(std::string_view bytes, const std::string& where) const override;
};

class XgboostUbjsonLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "xgboost-ubjson"; }
  bool recognizes(std::string_view bytes) const override;
  Model load(std::string_view bytes, const std::string& where) const override;
};

}  // namespace orchard
