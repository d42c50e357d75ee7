#include "engine/compiled_forest.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "engine/float_filtered_forest.h"
#include "engine/reference_evaluator.h"
#include "engine/simd_walk.h"

namespace orchard {
namespace {

// Node feature field: the feature index in the low bits, flags above it.
constexpr std::uint32_t kDefaultLeftBit = 1u << 31;
constexpr std::uint32_t kCategoricalBit = 1u << 30;
constexpr std::uint32_t kCategoriesLeftBit = 1u << 29;
constexpr std::uint32_t kFeatureMask = (1u << 29) - 1;

// Trees up to this depth are stored complete. 2^10 leaves per tree bounds the padding cost.
constexpr int kMaxPerfectDepth = 10;
// Rows normalized and walked together in the batch path: up to 256, fewer for wide models so that a
// block's inputs stay around 64 KB (L2-resident).
constexpr std::size_t kBlockRows = 256;
constexpr std::size_t kBlockBytes = std::size_t{64} << 10;
// Categorical splits are compiled to bitsets; beyond this many words in all (a model with huge
// category codes), the model is evaluated by the reference evaluator instead.
constexpr std::size_t kMaxCategoryWords = std::size_t{1} << 24;
// Rows that walk one perfect tree in lockstep (and trees one row walks in lockstep).
constexpr std::size_t kInterleave = 8;
// Models whose compiled trees take more than this walk single rows through several trees at once.
constexpr std::size_t kInterleaveSingleBytes = std::size_t{512} << 10;

enum class FeatureFix : std::uint8_t {
  kNone,       // value used as is
  kNanToZero,  // LightGBM missing type None
  kZeroToNan,  // LightGBM missing type Zero: NaN and |x| <= 1e-35 take the default side
};

// The largest value of T that a `comparison` against `threshold` accepts, so that the node test becomes
// `x <= result` for every x of type T. NaN (never true) when no value is accepted.
template <typename T>
T canonical_threshold(double threshold, Comparison comparison) {
  T v = static_cast<T>(threshold);
  const bool too_big = comparison == Comparison::kLessThan ? static_cast<double>(v) >= threshold
                                                           : static_cast<double>(v) > threshold;
  if (too_big) {
    if (v == -std::numeric_limits<T>::infinity()) return std::numeric_limits<T>::quiet_NaN();
    v = std::nextafter(v, -std::numeric_limits<T>::infinity());
  }
  return v;
}

template <typename T>
struct PerfectNode {
  std::uint32_t feature;  // with kDefaultLeftBit
  T threshold;
};

template <typename T>
struct GeneralNode {
  T threshold;            // numerical: canonical threshold; categorical: unused
  std::uint32_t feature;  // with flags
  std::int32_t left;      // >= 0: node index; < 0: ~leaf slot
  std::int32_t right;
  std::uint32_t category_split;  // categorical: index into category_splits_
};

struct CategorySplit {
  std::uint32_t word_offset;
  std::uint32_t num_bits;
};

enum class TreeLayout : std::uint8_t { kPerfect, kGeneral };

struct CompiledTree {
  TreeLayout layout;
  std::uint8_t depth;        // perfect trees
  std::int32_t group;        // -1: vector leaves
  std::int32_t leaf_size;
  std::uint32_t node_offset;
  std::uint32_t leaf_offset;    // into leaves_ (leaf_size values per leaf slot)
  std::int32_t linear_offset;   // general trees with linear leaves: into leaf_linear_, else -1
  std::uint32_t top_index;      // perfect trees: into perfect_tops_
};

struct CompiledLinearLeaf {
  double constant;
  std::uint32_t term_offset;
  std::uint32_t term_count;
};

bool is_perfect_candidate(const Tree& tree) {
  if (!tree.linear_leaves.empty()) return false;
  for (const TreeNode& node : tree.nodes) {
    if (node.kind == NodeKind::kCategorical) return false;
  }
  const int depth = tree.depth();
  if (depth > kMaxPerfectDepth) return false;
  // Avoid storing a sparse deep tree as a mostly padded complete one.
  std::size_t leaves = 0;
  for (const TreeNode& node : tree.nodes) leaves += node.kind == NodeKind::kLeaf;
  // Up to depth 8 a complete tree costs at most 256 leaf slots, as much as a full XGBoost tree of that
  // depth; the branch-free walk wins over the pointer walk even when most slots are padding
  // (HistGradientBoosting's unbalanced trees).
  return depth <= 8 || (std::size_t{1} << depth) <= 8 * leaves;
}

// Works out, per feature, the single input fix that makes every node read "NaN takes the default".
// Returns false if the model's nodes disagree in a way no per-feature fix can express.
bool plan_feature_fixes(const Model& model, std::vector<FeatureFix>& fixes) {
  const std::size_t n = static_cast<std::size_t>(model.num_columns());
  std::vector<std::set<MissingRule>> numerical(n), categorical(n);
  for (const Tree& tree : model.trees) {
    for (const TreeNode& node : tree.nodes) {
      if (node.kind == NodeKind::kNumerical) numerical[static_cast<std::size_t>(node.feature)].insert(node.missing);
      if (node.kind == NodeKind::kCategorical) categorical[static_cast<std::size_t>(node.feature)].insert(node.missing);
    }
  }
  fixes.assign(n, FeatureFix::kNone);
  for (std::size_t f = 0; f < n; ++f) {
    if (numerical[f].size() > 1) return false;
    const bool cat_nan_default = categorical[f].count(MissingRule::kNanGoesDefault) > 0;
    const bool cat_nan_zero = categorical[f].size() > (cat_nan_default ? 1u : 0u);
    if (cat_nan_default && cat_nan_zero) return false;
    if (numerical[f].empty()) {
      fixes[f] = cat_nan_zero ? FeatureFix::kNanToZero : FeatureFix::kNone;
      continue;
    }
    switch (*numerical[f].begin()) {
      case MissingRule::kNanGoesDefault:
        if (cat_nan_zero) return false;
        fixes[f] = FeatureFix::kNone;
        break;
      case MissingRule::kNanAsZero:
        if (cat_nan_default) return false;
        fixes[f] = FeatureFix::kNanToZero;
        break;
      case MissingRule::kZeroGoesDefault:
        if (!categorical[f].empty()) return false;
        fixes[f] = FeatureFix::kZeroToNan;
        break;
    }
  }
  return true;
}

// T: the input and threshold precision; A: the accumulation precision.
template <typename T, typename A>
class FlatForest final : public ForestKernel {
 public:
  FlatForest(const Model& model, std::vector<FeatureFix> fixes, const CompileOptions& options)
      : use_simd_(options.allow_simd && (std::is_same_v<T, float> ? simd_walk_available() : simd_walk_f64_available())),
        num_features_(model.num_columns()),
        num_outputs_(model.num_outputs),
        input_precision_(model.input_precision),
        fixes_(std::move(fixes)) {
    for (std::size_t f = 0; f < fixes_.size(); ++f) {
      if (fixes_[f] != FeatureFix::kNone) fixed_features_.push_back(static_cast<std::uint32_t>(f));
    }
    for (double b : model.base_margin) base_.push_back(static_cast<A>(b));
    if (model.has_linear) {
      has_linear_ = true;
      linear_features_ = model.linear.num_features;
      for (double w : model.linear.weights) linear_weights_.push_back(static_cast<A>(w));
      for (double b : model.linear.bias) linear_bias_.push_back(static_cast<A>(b));
    }
    for (const Tree& tree : model.trees) {
      if (options.allow_perfect && is_perfect_candidate(tree)) {
        add_perfect(tree, model.comparison);
      } else {
        add_general(tree, model.comparison);
      }
    }
    const std::size_t bytes = perfect_nodes_.size() * sizeof(PerfectNode<T>) + general_nodes_.size() * sizeof(GeneralNode<T>) +
                              leaves_.size() * sizeof(A);
    interleave_single_rows_ = options.interleave_single_rows > 0 ||
                              (options.interleave_single_rows == 0 && bytes > kInterleaveSingleBytes);
  }

  void margins_row(const double* row, double* margins) const override {
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    if (nf <= kStackFeatures && no <= kStackOutputs) {
      T x[kStackFeatures];
      A acc[kStackOutputs];
      run(row, 1, x, acc, margins);
    } else {
      // Very wide models: one scratch buffer per thread, grown once.
      thread_local std::vector<T> x;
      thread_local std::vector<A> acc;
      if (x.size() < nf) x.resize(nf);
      if (acc.size() < no) acc.resize(no);
      run(row, 1, x.data(), acc.data(), margins);
    }
  }

  void margins_block(const double* rows, std::size_t n, double* margins) const override {
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    const std::size_t block = std::clamp<std::size_t>(kBlockBytes / (sizeof(T) * std::max<std::size_t>(nf, 1)), 1, kBlockRows);
    std::vector<T> x(block * std::max<std::size_t>(nf, 1));
    std::vector<A> acc(block * no);
    for (std::size_t start = 0; start < n; start += block) {
      const std::size_t m = std::min(block, n - start);
      run(rows + start * nf, m, x.data(), acc.data(), margins + start * no);
    }
  }

  std::string describe() const override {
    std::size_t perfect = 0;
    int deepest = 0;
    for (const CompiledTree& tree : trees_) {
      if (tree.layout == TreeLayout::kPerfect) {
        ++perfect;
        deepest = std::max<int>(deepest, tree.depth);
      }
    }
    std::string text = std::to_string(trees_.size()) + " trees (" + std::to_string(perfect) + " complete, depth <= " +
                       std::to_string(deepest) + "; " + std::to_string(trees_.size() - perfect) + " general)";
    if (has_linear_) text += " + linear";
    text += sizeof(T) == 4 ? ", float32 inputs" : ", float64 inputs";
    text += sizeof(A) == 4 ? ", float32 sums" : ", float64 sums";
    if (use_simd_ && perfect > 0) text += ", AVX-512";
    return text;
  }

  std::size_t memory_bytes() const override {
    return sizeof(*this) + vector_bytes(fixes_) + vector_bytes(fixed_features_) + vector_bytes(base_) +
           vector_bytes(linear_weights_) + vector_bytes(linear_bias_) + vector_bytes(trees_) +
           vector_bytes(perfect_nodes_) + vector_bytes(perfect_tops_) + vector_bytes(perfect_tops_f64_) +
           vector_bytes(general_nodes_) + vector_bytes(leaves_) + vector_bytes(category_splits_) +
           vector_bytes(category_words_) + vector_bytes(leaf_linear_) + vector_bytes(linear_leaves_) +
           vector_bytes(linear_features_of_terms_) + vector_bytes(linear_coefficients_) + vector_bytes(linear_weight_);
  }

 private:
  // The whole pipeline for m <= kBlockRows rows: normalize, accumulate, finish.
  void run(const double* rows, std::size_t m, T* x, A* acc, double* margins) const {
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    for (std::size_t r = 0; r < m; ++r) {
      const double* in = rows + r * nf;
      T* out = x + r * nf;
      for (std::size_t f = 0; f < nf; ++f) out[f] = static_cast<T>(in[f]);
      for (std::uint32_t f : fixed_features_) {
        T& v = out[f];
        if (fixes_[f] == FeatureFix::kNanToZero) {
          if (std::isnan(v)) v = T(0);
        } else if (std::isnan(v) || std::fabs(static_cast<double>(v)) <= kZeroThreshold) {
          v = std::numeric_limits<T>::quiet_NaN();
        }
      }
      for (std::size_t g = 0; g < no; ++g) acc[r * no + g] = base_[g];
      if (has_linear_) add_linear(in, acc + r * no);
    }
    if (m == 1 && interleave_single_rows_) {
      walk_one_row(rows, x, acc);
    } else {
      for (const CompiledTree& tree : trees_) {
        if (tree.layout == TreeLayout::kPerfect) {
          walk_perfect(tree, x, m, acc);
        } else {
          walk_general(tree, rows, x, m, acc);
        }
      }
    }
    for (std::size_t i = 0; i < m * no; ++i) margins[i] = static_cast<double>(acc[i]);
  }

  // One row of a model larger than kInterleaveSingleBytes: consecutive complete trees of equal depth are
  // walked kInterleave at a time, so that their node fetches (cache misses, as the model outgrows L2)
  // overlap; leaves are still added in tree order. Smaller models stay in cache, where the plain loop
  // is faster.
  void walk_one_row(const double* row, const T* x, A* acc) const {
    std::size_t t = 0;
    while (t < trees_.size()) {
      const CompiledTree& first = trees_[t];
      if (first.layout != TreeLayout::kPerfect) {
        walk_general(first, row, x, 1, acc);
        ++t;
        continue;
      }
      std::size_t count = 1;
      while (count < kInterleave && t + count < trees_.size() && trees_[t + count].layout == TreeLayout::kPerfect &&
             trees_[t + count].depth == first.depth) {
        ++count;
      }
      const int depth = first.depth;
      std::uint32_t index[kInterleave] = {};
      for (int level = 0; level < depth; ++level) {
        for (std::size_t k = 0; k < count; ++k) {
          const PerfectNode<T>& node = perfect_nodes_[trees_[t + k].node_offset + index[k]];
          const T v = x[node.feature & kFeatureMask];
          const std::uint32_t left = static_cast<std::uint32_t>(v <= node.threshold) |
                                     (static_cast<std::uint32_t>(v != v) & (node.feature >> 31));
          index[k] = 2 * index[k] + 2 - left;
        }
      }
      const std::uint32_t first_leaf = (1u << depth) - 1;
      for (std::size_t k = 0; k < count; ++k) {
        const CompiledTree& tree = trees_[t + k];
        const std::size_t size = static_cast<std::size_t>(tree.leaf_size);
        const A* leaf = leaves_.data() + tree.leaf_offset + static_cast<std::size_t>(index[k] - first_leaf) * size;
        if (tree.group >= 0) {
          acc[tree.group] += leaf[0];
        } else {
          for (std::size_t j = 0; j < size; ++j) acc[j] += leaf[j];
        }
      }
      t += count;
    }
  }

  void add_linear(const double* in, A* acc) const {
    const std::size_t groups = static_cast<std::size_t>(num_outputs_);
    for (std::size_t g = 0; g < groups; ++g) {
      A psum = linear_bias_[g] + acc[g];
      for (std::int32_t f = 0; f < linear_features_; ++f) {
        const double value = input(in[f]);
        if (std::isnan(value)) continue;
        psum += static_cast<A>(value) * linear_weights_[static_cast<std::size_t>(f) * groups + g];
      }
      acc[g] = psum;
    }
  }

  double input(double value) const {
    return input_precision_ == Precision::kFloat32 ? static_cast<double>(static_cast<float>(value)) : value;
  }

  void walk_perfect(const CompiledTree& tree, const T* x, std::size_t m, A* acc) const {
    if (tree.group < 0) {
      walk_perfect_vector(tree, x, m, acc);
      return;
    }
    const PerfectNode<T>* nodes = perfect_nodes_.data() + tree.node_offset;
    const A* leaves = leaves_.data() + tree.leaf_offset;
    const int depth = tree.depth;
    const std::uint32_t first_leaf = (1u << depth) - 1;
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    const std::size_t group = static_cast<std::size_t>(tree.group);
    std::size_t r = 0;
    if (use_simd_) {
      std::uint32_t leaf[64];
      const std::size_t simd_rows = m / kSimdLanes * kSimdLanes;
      for (; r < simd_rows; r += std::min<std::size_t>(64, simd_rows - r)) {
        const std::size_t chunk = std::min<std::size_t>(64, simd_rows - r);
        simd_leaves(tree, nodes, x + r * nf, chunk, leaf);
        for (std::size_t k = 0; k < chunk; ++k) acc[(r + k) * no + group] += leaves[leaf[k]];
      }
    }
    for (; r + kInterleave <= m; r += kInterleave) {
      std::uint32_t index[kInterleave] = {};
      const T* base = x + r * nf;
      for (int level = 0; level < depth; ++level) {
        for (std::size_t k = 0; k < kInterleave; ++k) {
          const PerfectNode<T>& node = nodes[index[k]];
          const T v = base[k * nf + (node.feature & kFeatureMask)];
          const std::uint32_t left = static_cast<std::uint32_t>(v <= node.threshold) |
                                     (static_cast<std::uint32_t>(v != v) & (node.feature >> 31));
          index[k] = 2 * index[k] + 2 - left;
        }
      }
      for (std::size_t k = 0; k < kInterleave; ++k) acc[(r + k) * no + group] += leaves[index[k] - first_leaf];
    }
    for (; r < m; ++r) {
      const T* row = x + r * nf;
      std::uint32_t index = 0;
      for (int level = 0; level < depth; ++level) {
        const PerfectNode<T>& node = nodes[index];
        const T v = row[node.feature & kFeatureMask];
        const std::uint32_t left = static_cast<std::uint32_t>(v <= node.threshold) |
                                   (static_cast<std::uint32_t>(v != v) & (node.feature >> 31));
        index = 2 * index + 2 - left;
      }
      acc[r * no + group] += leaves[index - first_leaf];
    }
  }

  // Rows per SIMD vector: sixteen floats or eight doubles.
  static constexpr std::size_t kSimdLanes = std::is_same_v<T, float> ? 16 : 8;

  // The leaves `chunk` rows (a multiple of kSimdLanes, at most 64) reach in a complete tree.
  void simd_leaves(const CompiledTree& tree, const PerfectNode<T>* nodes, const T* x, std::size_t chunk, std::uint32_t* leaf) const {
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    if constexpr (std::is_same_v<T, float>) {
      static_assert(sizeof(PerfectNode<float>) == sizeof(PerfectNodeF32));
      simd_walk_perfect_f32(reinterpret_cast<const PerfectNodeF32*>(nodes), perfect_tops_[tree.top_index], tree.depth, x, nf, chunk, leaf);
    } else {
      static_assert(sizeof(PerfectNode<double>) == sizeof(PerfectNodeF64) && offsetof(PerfectNode<double>, threshold) == 8);
      simd_walk_perfect_f64(reinterpret_cast<const PerfectNodeF64*>(nodes), perfect_tops_f64_[tree.top_index], tree.depth, x, nf,
                            chunk, leaf);
    }
  }

  // Complete trees with vector leaves (leaf_size values per slot, one per output): the same walks,
  // then every output of the leaf is added.
  void walk_perfect_vector(const CompiledTree& tree, const T* x, std::size_t m, A* acc) const {
    const PerfectNode<T>* nodes = perfect_nodes_.data() + tree.node_offset;
    const A* leaves = leaves_.data() + tree.leaf_offset;
    const int depth = tree.depth;
    const std::uint32_t first_leaf = (1u << depth) - 1;
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    const std::size_t size = static_cast<std::size_t>(tree.leaf_size);
    auto add = [&](std::size_t r, std::uint32_t slot) {
      const A* leaf = leaves + static_cast<std::size_t>(slot) * size;
      A* out = acc + r * no;
      if (size == 2) {  // binary classifiers' class probabilities: the common case, unrolled
        out[0] += leaf[0];
        out[1] += leaf[1];
        return;
      }
      for (std::size_t k = 0; k < size; ++k) out[k] += leaf[k];
    };
    std::size_t r = 0;
    if (use_simd_) {
      std::uint32_t leaf[64];
      const std::size_t simd_rows = m / kSimdLanes * kSimdLanes;
      for (; r < simd_rows; r += std::min<std::size_t>(64, simd_rows - r)) {
        const std::size_t chunk = std::min<std::size_t>(64, simd_rows - r);
        simd_leaves(tree, nodes, x + r * nf, chunk, leaf);
        for (std::size_t k = 0; k < chunk; ++k) add(r + k, leaf[k]);
      }
    }
    for (; r + kInterleave <= m; r += kInterleave) {
      std::uint32_t index[kInterleave] = {};
      const T* base = x + r * nf;
      for (int level = 0; level < depth; ++level) {
        for (std::size_t k = 0; k < kInterleave; ++k) {
          const PerfectNode<T>& node = nodes[index[k]];
          const T v = base[k * nf + (node.feature & kFeatureMask)];
          const std::uint32_t left = static_cast<std::uint32_t>(v <= node.threshold) |
                                     (static_cast<std::uint32_t>(v != v) & (node.feature >> 31));
          index[k] = 2 * index[k] + 2 - left;
        }
      }
      for (std::size_t k = 0; k < kInterleave; ++k) add(r + k, index[k] - first_leaf);
    }
    for (; r < m; ++r) {
      const T* row = x + r * nf;
      std::uint32_t index = 0;
      for (int level = 0; level < depth; ++level) {
        const PerfectNode<T>& node = nodes[index];
        const T v = row[node.feature & kFeatureMask];
        const std::uint32_t left = static_cast<std::uint32_t>(v <= node.threshold) |
                                   (static_cast<std::uint32_t>(v != v) & (node.feature >> 31));
        index = 2 * index + 2 - left;
      }
      add(r, index - first_leaf);
    }
  }

  bool categorical_left(const GeneralNode<T>& node, T v) const {
    if (v != v) return (node.feature & kDefaultLeftBit) != 0;
    bool in_set = false;
    if (v >= T(0) && static_cast<double>(v) < 2147483648.0) {
      const auto category = static_cast<std::uint32_t>(v);
      const CategorySplit& split = category_splits_[node.category_split];
      in_set = category < split.num_bits &&
               ((category_words_[split.word_offset + category / 32] >> (category % 32)) & 1u) != 0;
    }
    return in_set == ((node.feature & kCategoriesLeftBit) != 0);
  }

  std::uint32_t find_leaf_slot(const GeneralNode<T>* nodes, const T* row) const {
    std::int32_t i = 0;
    for (;;) {
      const GeneralNode<T>& node = nodes[i];
      const T v = row[node.feature & kFeatureMask];
      bool left;
      if (node.feature & kCategoricalBit) [[unlikely]] {
        left = categorical_left(node, v);
      } else {
        left = (v <= node.threshold) | ((v != v) & ((node.feature & kDefaultLeftBit) != 0));
      }
      const std::int32_t next = left ? node.left : node.right;
      if (next < 0) return static_cast<std::uint32_t>(~next);
      i = next;
    }
  }

  void walk_general(const CompiledTree& tree, const double* rows, const T* x, std::size_t m, A* acc) const {
    const GeneralNode<T>* nodes = general_nodes_.data() + tree.node_offset;
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    const std::size_t leaf_size = static_cast<std::size_t>(tree.leaf_size);
    for (std::size_t r = 0; r < m; ++r) {
      const std::uint32_t slot = find_leaf_slot(nodes, x + r * nf);
      const A* leaf = leaves_.data() + tree.leaf_offset + slot * leaf_size;
      A* out = acc + r * no;
      if (tree.linear_offset >= 0) {
        out[tree.group] += linear_leaf_value(tree, slot, rows + r * nf, leaf[0]);
      } else if (tree.group >= 0) {
        out[tree.group] += leaf[0];
      } else {
        for (std::size_t k = 0; k < leaf_size; ++k) out[k] += leaf[k];
      }
    }
  }

  A linear_leaf_value(const CompiledTree& tree, std::uint32_t slot, const double* in, A plain) const {
    const std::int32_t index = leaf_linear_[static_cast<std::size_t>(tree.linear_offset) + slot];
    if (index < 0) return plain;
    const CompiledLinearLeaf& leaf = linear_leaves_[static_cast<std::size_t>(index)];
    double output = leaf.constant;
    for (std::uint32_t j = 0; j < leaf.term_count; ++j) {
      const double value = input(in[linear_features_of_terms_[leaf.term_offset + j]]);
      if (std::isnan(value)) return plain;
      output += linear_coefficients_[leaf.term_offset + j] * value;
    }
    return static_cast<A>(output * linear_weight_[static_cast<std::size_t>(index)]);
  }

  A leaf_value(const Tree& tree, std::size_t value_index) const {
    double value = tree.leaf_values[value_index];
    if (tree.weight != 1.0) value *= tree.weight;
    return static_cast<A>(value);
  }

  void add_perfect(const Tree& tree, Comparison comparison) {
    CompiledTree compiled{};
    compiled.layout = TreeLayout::kPerfect;
    compiled.depth = static_cast<std::uint8_t>(tree.depth());
    compiled.group = tree.leaf_size == 1 ? tree.group : -1;
    compiled.leaf_size = tree.leaf_size;
    compiled.node_offset = static_cast<std::uint32_t>(perfect_nodes_.size());
    compiled.leaf_offset = static_cast<std::uint32_t>(leaves_.size());
    compiled.linear_offset = -1;
    const std::size_t internal = (std::size_t{1} << compiled.depth) - 1;
    perfect_nodes_.resize(perfect_nodes_.size() + internal, PerfectNode<T>{0, T(0)});
    leaves_.resize(leaves_.size() + (internal + 1) * static_cast<std::size_t>(tree.leaf_size), A(0));
    fill_perfect(tree, 0, 0, 0, compiled, comparison);
    if constexpr (std::is_same_v<T, float>) {
      PerfectTreeTop top{};
      for (std::size_t i = 0; i < std::min<std::size_t>(internal, 31); ++i) {
        top.feature[i] = perfect_nodes_[compiled.node_offset + i].feature;
        top.threshold[i] = perfect_nodes_[compiled.node_offset + i].threshold;
      }
      compiled.top_index = static_cast<std::uint32_t>(perfect_tops_.size());
      perfect_tops_.push_back(top);
    } else {
      PerfectTreeTopF64 top{};
      for (std::size_t i = 0; i < std::min<std::size_t>(internal, 31); ++i) {
        top.feature[i] = perfect_nodes_[compiled.node_offset + i].feature;
        top.threshold[i] = perfect_nodes_[compiled.node_offset + i].threshold;
      }
      compiled.top_index = static_cast<std::uint32_t>(perfect_tops_f64_.size());
      perfect_tops_f64_.push_back(top);
    }
    trees_.push_back(compiled);
  }

  // Places IR node `ir` at complete-tree position `pos` (level `level`); a leaf above the last level is
  // replicated into every leaf position below it, so padding nodes may branch either way.
  void fill_perfect(const Tree& tree, std::size_t ir, std::size_t pos, int level, const CompiledTree& compiled,
                    Comparison comparison) {
    const TreeNode& node = tree.nodes[ir];
    const std::size_t first_leaf = (std::size_t{1} << compiled.depth) - 1;
    if (level == compiled.depth) {
      const std::size_t size = static_cast<std::size_t>(tree.leaf_size);
      for (std::size_t k = 0; k < size; ++k) {
        leaves_[compiled.leaf_offset + (pos - first_leaf) * size + k] = leaf_value(tree, node.leaf_index + k);
      }
      return;
    }
    PerfectNode<T>& slot = perfect_nodes_[compiled.node_offset + pos];
    if (node.kind == NodeKind::kLeaf) {
      slot = {0, T(0)};
      fill_perfect(tree, ir, 2 * pos + 1, level + 1, compiled, comparison);
      fill_perfect(tree, ir, 2 * pos + 2, level + 1, compiled, comparison);
      return;
    }
    slot.feature = static_cast<std::uint32_t>(node.feature) | (node.default_left ? kDefaultLeftBit : 0u);
    slot.threshold = canonical_threshold<T>(node.threshold, comparison);
    fill_perfect(tree, static_cast<std::size_t>(node.left), 2 * pos + 1, level + 1, compiled, comparison);
    fill_perfect(tree, static_cast<std::size_t>(node.right), 2 * pos + 2, level + 1, compiled, comparison);
  }

  void add_general(const Tree& tree, Comparison comparison) {
    CompiledTree compiled{};
    compiled.layout = TreeLayout::kGeneral;
    compiled.group = tree.leaf_size == 1 ? tree.group : -1;
    compiled.leaf_size = tree.leaf_size;
    compiled.node_offset = static_cast<std::uint32_t>(general_nodes_.size());
    compiled.leaf_offset = static_cast<std::uint32_t>(leaves_.size());
    compiled.linear_offset = tree.linear_leaves.empty() ? -1 : static_cast<std::int32_t>(leaf_linear_.size());

    // Number internal nodes in depth-first order (left first) and leaves in the order they are met.
    std::vector<std::int32_t> new_index(tree.nodes.size(), 0);
    std::vector<std::size_t> order;
    std::int32_t internal = 0, leaves = 0;
    std::vector<std::size_t> stack{0};
    while (!stack.empty()) {
      const std::size_t i = stack.back();
      stack.pop_back();
      const TreeNode& node = tree.nodes[i];
      if (node.kind == NodeKind::kLeaf) {
        new_index[i] = ~leaves++;
        order.push_back(i);
        continue;
      }
      new_index[i] = internal++;
      order.push_back(i);
      stack.push_back(static_cast<std::size_t>(node.right));
      stack.push_back(static_cast<std::size_t>(node.left));
    }
    if (tree.nodes[0].kind == NodeKind::kLeaf) {
      // A single-leaf tree: a root that sends everything to leaf 0 whatever the input.
      general_nodes_.push_back({std::numeric_limits<T>::infinity(), kDefaultLeftBit, ~0, ~0, 0});
    } else {
      general_nodes_.resize(general_nodes_.size() + static_cast<std::size_t>(internal));
    }
    leaves_.resize(leaves_.size() + static_cast<std::size_t>(leaves) * static_cast<std::size_t>(tree.leaf_size));
    if (compiled.linear_offset >= 0) leaf_linear_.resize(leaf_linear_.size() + static_cast<std::size_t>(leaves), -1);

    for (std::size_t i : order) {
      const TreeNode& node = tree.nodes[i];
      if (node.kind == NodeKind::kLeaf) {
        const std::size_t slot = static_cast<std::size_t>(~new_index[i]);
        for (std::int32_t k = 0; k < tree.leaf_size; ++k) {
          leaves_[compiled.leaf_offset + slot * static_cast<std::size_t>(tree.leaf_size) + static_cast<std::size_t>(k)] =
              leaf_value(tree, node.leaf_index + static_cast<std::size_t>(k));
        }
        if (compiled.linear_offset >= 0 && node.linear_leaf >= 0) {
          leaf_linear_[static_cast<std::size_t>(compiled.linear_offset) + slot] = add_linear_leaf(tree, node);
        }
        continue;
      }
      GeneralNode<T>& out = general_nodes_[compiled.node_offset + static_cast<std::size_t>(new_index[i])];
      out = {};
      out.feature = static_cast<std::uint32_t>(node.feature) | (node.default_left ? kDefaultLeftBit : 0u);
      out.left = new_index[static_cast<std::size_t>(node.left)];
      out.right = new_index[static_cast<std::size_t>(node.right)];
      if (node.kind == NodeKind::kCategorical) {
        out.feature |= kCategoricalBit | (node.categories_go_left ? kCategoriesLeftBit : 0u);
        out.category_split = add_category_split(tree, node);
      } else {
        out.threshold = canonical_threshold<T>(node.threshold, comparison);
      }
    }
    trees_.push_back(compiled);
  }

  std::uint32_t add_category_split(const Tree& tree, const TreeNode& node) {
    CategorySplit split{static_cast<std::uint32_t>(category_words_.size()), 0};
    if (node.category_count > 0) {
      const std::uint32_t largest = tree.categories[node.category_begin + node.category_count - 1];
      if (largest >= (1u << 24)) {
        throw Error(ErrorKind::kInvalidModel, "category " + std::to_string(largest) + " is too large", "",
                    "categories below 2^24");
      }
      split.num_bits = largest + 1;
      category_words_.resize(category_words_.size() + (split.num_bits + 31) / 32, 0);
      for (std::uint32_t j = 0; j < node.category_count; ++j) {
        const std::uint32_t c = tree.categories[node.category_begin + j];
        category_words_[split.word_offset + c / 32] |= 1u << (c % 32);
      }
    }
    category_splits_.push_back(split);
    return static_cast<std::uint32_t>(category_splits_.size() - 1);
  }

  std::int32_t add_linear_leaf(const Tree& tree, const TreeNode& node) {
    const LinearLeaf& leaf = tree.linear_leaves[static_cast<std::size_t>(node.linear_leaf)];
    CompiledLinearLeaf compiled{leaf.constant, static_cast<std::uint32_t>(linear_coefficients_.size()),
                                static_cast<std::uint32_t>(leaf.features.size())};
    for (std::size_t j = 0; j < leaf.features.size(); ++j) {
      linear_features_of_terms_.push_back(static_cast<std::uint32_t>(leaf.features[j]));
      linear_coefficients_.push_back(leaf.coefficients[j]);
    }
    linear_leaves_.push_back(compiled);
    linear_weight_.push_back(tree.weight);
    return static_cast<std::int32_t>(linear_leaves_.size() - 1);
  }

  bool use_simd_;
  bool interleave_single_rows_ = false;
  std::int32_t num_features_;
  std::int32_t num_outputs_;
  Precision input_precision_;
  std::vector<FeatureFix> fixes_;
  std::vector<std::uint32_t> fixed_features_;
  std::vector<A> base_;

  bool has_linear_ = false;
  std::int32_t linear_features_ = 0;
  std::vector<A> linear_weights_;
  std::vector<A> linear_bias_;

  std::vector<CompiledTree> trees_;
  std::vector<PerfectNode<T>> perfect_nodes_;
  std::vector<PerfectTreeTop> perfect_tops_;         // float inputs (the SIMD walk)
  std::vector<PerfectTreeTopF64> perfect_tops_f64_;  // double inputs
  std::vector<GeneralNode<T>> general_nodes_;
  std::vector<A> leaves_;
  std::vector<CategorySplit> category_splits_;
  std::vector<std::uint32_t> category_words_;
  std::vector<std::int32_t> leaf_linear_;
  std::vector<CompiledLinearLeaf> linear_leaves_;
  std::vector<std::uint32_t> linear_features_of_terms_;
  std::vector<double> linear_coefficients_;
  std::vector<double> linear_weight_;
};

// For models whose missing-value rules cannot be normalized per feature: the reference evaluator
// (on columns: the Predictor has already run the input steps).
class ReferenceKernel final : public ForestKernel {
 public:
  explicit ReferenceKernel(const Model& model) : model_(model) {}
  void margins_row(const double* row, double* margins) const override { reference_column_margins(model_, row, margins); }
  void margins_block(const double* rows, std::size_t n, double* margins) const override {
    const std::size_t nf = static_cast<std::size_t>(model_.num_columns());
    const std::size_t no = static_cast<std::size_t>(model_.num_outputs);
    for (std::size_t r = 0; r < n; ++r) reference_column_margins(model_, rows + r * nf, margins + r * no);
  }
  std::string describe() const override { return std::to_string(model_.trees.size()) + " trees (reference evaluator)"; }
  // Its own copy of the IR, which it walks.
  std::size_t memory_bytes() const override { return sizeof(*this) - sizeof(Model) + model_.memory_bytes(); }

 private:
  Model model_;
};

// Bitset words the compiled categorical splits would take.
std::size_t category_words(const Model& model) {
  std::size_t words = 0;
  for (const Tree& tree : model.trees) {
    for (const TreeNode& node : tree.nodes) {
      if (node.kind == NodeKind::kCategorical && node.category_count > 0) {
        words += tree.categories[node.category_begin + node.category_count - 1] / 32 + 1;
      }
    }
  }
  return words;
}

}  // namespace

std::unique_ptr<const ForestKernel> compile_forest(const Model& model, const CompileOptions& options) {
  if (static_cast<std::uint32_t>(model.num_columns()) > kFeatureMask) {
    throw Error(ErrorKind::kInvalidModel, "too many features (" + std::to_string(model.num_columns()) + ")", "",
                "at most " + std::to_string(kFeatureMask));
  }
  std::vector<FeatureFix> fixes;
  if (!plan_feature_fixes(model, fixes) || category_words(model) > kMaxCategoryWords) {
    return std::make_unique<ReferenceKernel>(model);
  }
  const bool float_in = model.input_precision == Precision::kFloat32;
  const bool float_sum = model.accumulation == Precision::kFloat32;
  if (float_in && float_sum) return std::make_unique<FlatForest<float, float>>(model, std::move(fixes), options);
  if (float_in) return std::make_unique<FlatForest<float, double>>(model, std::move(fixes), options);
  std::unique_ptr<const ForestKernel> exact;
  if (float_sum) exact = std::make_unique<FlatForest<double, float>>(model, std::move(fixes), options);
  else exact = std::make_unique<FlatForest<double, double>>(model, std::move(fixes), options);
  if (options.allow_float_filter && float_filter_applies(model)) return compile_float_filtered(model, std::move(exact), options);
  return exact;
}

}  // namespace orchard
