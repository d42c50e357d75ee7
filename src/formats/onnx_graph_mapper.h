// The ONNX graph walk behind OnnxLoader (onnx_model.h): what each tensor of the graph holds (Value)
// and how each operator changes it. Internal to the formats area, split by stage:
//   onnx_model.cc      the walk: inputs, the operator registry, dispatch, choosing the answer
//   onnx_column_ops.cc column plumbing and preprocessing in front of the estimator
//   onnx_score_ops.cc  estimators and what follows them (ZipMap, Normalizer, labels, arithmetic on a
//                      tree's output, Sum, IsolationForest's decision_function, a regressor's Exp
//                      and Div)
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/model.h"
#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"
#include "formats/onnx_leaf_values.h"
#include "formats/onnx_preprocessing.h"

namespace orchard::onnx_format {

// Every operator the walk knows, domain-qualified ("ai.onnx.ml.Scaler", "Cast").
const std::set<std::string>& supported_operators();

// The chain skl2onnx writes after the Sum of an IsolationForest's per-tree depths S:
// Div(S, c) -> Neg -> Pow(2, .) -> Neg -> Add(., -offset_) = decision_function.
enum class Tail { kNone, kSum, kDivided, kNegated, kPowered, kNegPowered, kDecision };

// What a tensor of the graph holds, as far as the mapping onto the IR is concerned.
struct Value {
  // kScores: an estimator's output (complete: a model Orchard can answer with; false in the middle of
  // the IsolationForest chain). kLeaves: a single tree's output after arithmetic (onnx_leaf_values.h).
  // kLabel: anything else computed from scores (labels, comparisons): never answered.
  enum class Kind { kFeatures, kScores, kLeaves, kLabel, kConstant } kind = Kind::kFeatures;
  Value() = default;
  explicit Value(Kind k) : kind(k) {}
  // kFeatures: the element type. kFloat also covers doubles cast from float (same values); kInteger
  // covers inputs cast to int64, which truncates (the documented difference for non-integer inputs).
  enum class Element { kFloat, kDouble, kInteger, kString } element = Element::kFloat;
  std::vector<GraphColumn> columns;  // kFeatures: where each column comes from
  bool rank3 = false;                // kFeatures: [N, 1, W] (a OneHotEncoder's output), else [N, W]
  const onnx::TensorProto* constant = nullptr;  // kConstant
  std::shared_ptr<const Estimator> estimator;   // kScores
  const onnx::NodeProto* origin = nullptr;      // kScores, kLeaves: the estimator (or Sum) node behind it
  bool complete = true;                         // kScores
  Tail tail = Tail::kNone;                      // kScores
  std::shared_ptr<const LeafFunction> leaves;  // kLeaves
};

class GraphMapper {
 public:
  GraphMapper(const onnx::ModelProto& proto, const std::string& where) : proto_(proto), graph_(proto.graph()), where_(where) {}

  Model map();

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const { throw_invalid_model(where_, what, expected); }
  void check_operators() const;
  void read_inputs();
  const Value& input(const NodeView& view, int k) const;
  const Value& features(const NodeView& view, int k) const;
  void define(const NodeView& view, int k, Value value);
  void apply(const NodeView& view);
  void apply_structural(const NodeView& view);
  void apply_preprocessing(const NodeView& view);
  void apply_estimator(const NodeView& view);
  void apply_to_scores(const NodeView& view);
  void apply_to_labels(const NodeView& view);
  void apply_after_estimator(const NodeView& view);
  bool apply_on_scores_shape(const NodeView& view);
  bool apply_tree_arithmetic(const NodeView& view, bool reads_scores, bool reads_leaves, bool reads_features);
  std::shared_ptr<const LeafFunction> leaves(const Value& value) const;
  std::optional<double> scalar_constant(const Value& value, const NodeView& view) const;
  int label_inputs(const NodeView& view) const;  // how many inputs are labels
  std::vector<std::int64_t> constant_integers(const NodeView& view, int k) const;

  const onnx::ModelProto& proto_;
  const onnx::GraphProto& graph_;
  const std::string& where_;
  std::map<std::string, Value> values_;
  Model model_;  // features and input steps as they are found; the estimator fills the rest
  bool any_estimator_ = false;
  mutable std::map<const Estimator*, std::shared_ptr<const LeafFunction>> leaf_cache_;
};

}  // namespace orchard::onnx_format
