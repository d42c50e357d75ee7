// Shared by the fuzz targets (one per file in fuzz/): what a loaded model is put through, and the
// demo models the request decoders read rows for.
//
// A target feeds the bytes to one parser and accepts exactly one outcome besides success:
// orchard::Error, the documented refusal. Anything else — a crash, a sanitizer report, another
// exception escaping, a hang, or an allocation far beyond the input's size — is a finding.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "engine/model.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"

#ifndef ORCHARD_SOURCE_DIR
#error "ORCHARD_SOURCE_DIR must name the repository (fuzz/CMakeLists.txt defines it)"
#endif

namespace orchard::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A model that loaded must validate, compile and predict without reading out of bounds: rows of
// missing values, zeros and extreme values through the single-row and the batch paths.
inline void exercise(Model model) {
  model.validate("fuzz input");
  const Predictor predictor(std::move(model), "fuzz input");
  const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
  if (nf > (std::size_t{1} << 16)) return;  // validated; predicting a huge row adds nothing
  const double specials[] = {std::nan(""), 0.0, -1e300, 1e300, 3.0};
  std::vector<double> rows;
  for (double v : specials) rows.insert(rows.end(), nf, v);
  const std::size_t n = sizeof specials / sizeof specials[0];
  for (bool raw : {false, true}) {
    const std::size_t width = static_cast<std::size_t>(predictor.num_values(raw));
    std::vector<double> out(n * width);
    predictor.predict_row(rows.data(), out.data(), raw);
    predictor.predict_rows(rows.data(), n, out.data(), raw);
  }
}

// Loads with one loader (whatever its recognizes() says: load() must refuse bad bytes by itself)
// and exercises the result.
inline int fuzz_loader(const ModelLoader& loader, const std::uint8_t* data, std::size_t size) {
  try {
    exercise(loader.load(as_view(data, size), "fuzz input"));
  } catch (const Error&) {
  }
  return 0;
}

// The demo models of examples/ (loaded once): churn's LightGBM model has categorical features with
// category names, iris's XGBoost model three outputs.
inline const Model& churn_model() {
  static const Model model = load_model_file(std::string(ORCHARD_SOURCE_DIR) + "/examples/churn/churn_lightgbm.txt");
  return model;
}
inline const Model& iris_model() {
  static const Model model = load_model_file(std::string(ORCHARD_SOURCE_DIR) + "/examples/iris/iris_xgboost.json");
  return model;
}

}  // namespace orchard::fuzz
