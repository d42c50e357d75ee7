#include "formats/lightgbm_text.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "common/error.h"

namespace orchard {
namespace {

// One "key=value" section of the file (the header or one tree), with the line each key came from.
struct Section {
  std::map<std::string, std::pair<std::string_view, std::size_t>> fields;
  std::set<std::string> flags;  // lines without '=' (e.g. "average_output")
  std::size_t first_line = 0;
};

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& where) : bytes_(bytes), where_(where) {}

  [[noreturn]] void fail(std::size_t line, const std::string& what, const std::string& expected = {}) const {
    throw_invalid_model(where_ + ":" + std::to_string(line), what, expected);
  }

  // Returns false at end of input. Strips '\r'.
  bool next_line(std::string_view& line) {
    if (pos_ >= bytes_.size()) return false;
    const std::size_t end = bytes_.find('\n', pos_);
    const std::size_t stop = end == std::string_view::npos ? bytes_.size() : end;
    line = bytes_.substr(pos_, stop - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = stop + 1;
    ++line_number_;
    return true;
  }

  std::size_t line_number() const { return line_number_; }
  const std::string& where() const { return where_; }

 private:
  std::string_view bytes_;
  const std::string& where_;
  std::size_t pos_ = 0;
  std::size_t line_number_ = 0;
};

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

class SectionView {
 public:
  SectionView(const Section& section, const Reader& reader, std::string name)
      : section_(section), reader_(reader), name_(std::move(name)) {}

  bool has(const std::string& key) const { return section_.fields.count(key) > 0; }

  [[noreturn]] void fail_missing(const std::string& key) const {
    reader_.fail(section_.first_line, name_ + " has no \"" + key + "\" line", "a line \"" + key + "=...\"");
  }

  std::pair<std::string_view, std::size_t> raw(const std::string& key) const {
    auto it = section_.fields.find(key);
    if (it == section_.fields.end()) fail_missing(key);
    return it->second;
  }

  std::string text(const std::string& key) const { return std::string(raw(key).first); }

  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    auto [value, line] = raw(key);
    return parse_integer(value, line, key, lo, hi);
  }

  std::int64_t parse_integer(std::string_view token, std::size_t line, const std::string& key, std::int64_t lo, std::int64_t hi) const {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc() || end != token.data() + token.size()) {
      reader_.fail(line, name_ + ": " + key + " value \"" + std::string(token) + "\" is not an integer", "an integer");
    }
    if (v < lo || v > hi) {
      reader_.fail(line, name_ + ": " + key + " value " + std::to_string(v) + " is out of range",
                   "between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    return v;
  }

  std::vector<std::int64_t> integers(const std::string& key, std::size_t count, std::int64_t lo, std::int64_t hi) const {
    auto [value, line] = raw(key);
    const auto tokens = split_spaces(value);
    if (count != SIZE_MAX && tokens.size() != count) {
      reader_.fail(line, name_ + ": " + key + " has " + std::to_string(tokens.size()) + " values", std::to_string(count));
    }
    std::vector<std::int64_t> out;
    out.reserve(tokens.size());
    for (auto token : tokens) out.push_back(parse_integer(token, line, key, lo, hi));
    return out;
  }

  // Doubles parsed exactly (from_chars rounds correctly, like the strtod LightGBM uses). "inf",
  // "-inf" and "nan" are accepted as LightGBM writes them.
  std::vector<double> reals(const std::string& key, std::size_t count) const {
    auto [value, line] = raw(key);
    const auto tokens = split_spaces(value);
    if (count != SIZE_MAX && tokens.size() != count) {
      reader_.fail(line, name_ + ": " + key + " has " + std::to_string(tokens.size()) + " values", std::to_string(count));
    }
    std::vector<double> out;
    out.reserve(tokens.size());
    for (auto token : tokens) {
      double v = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if ((ec != std::errc() && ec != std::errc::result_out_of_range) || end != token.data() + token.size()) {
        reader_.fail(line, name_ + ": " + key + " value \"" + std::string(token) + "\" is not a number", "a number");
      }
      out.push_back(v);
    }
    return out;
  }

 private:
  const Section& section_;
  const Reader& reader_;
  std::string name_;
};

// Reads key=value lines until a blank line, "Tree=", or "end of trees" (which is left unconsumed
// in `stop`). Returns the line that stopped it.
Section read_section(Reader& reader, std::string_view& stop, bool& at_end) {
  Section section;
  section.first_line = reader.line_number() + 1;
  std::string_view line;
  at_end = true;
  while (reader.next_line(line)) {
    if (line.empty()) {
      if (section.fields.empty() && section.flags.empty()) {
        section.first_line = reader.line_number() + 1;
        continue;
      }
      stop = line;
      at_end = false;
      return section;
    }
    if (line.rfind("Tree=", 0) == 0 || line == "end of trees") {
      stop = line;
      at_end = false;
      return section;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      section.flags.insert(std::string(line));
    } else {
      section.fields[std::string(line.substr(0, eq))] = {line.substr(eq + 1), reader.line_number()};
    }
  }
  return section;
}

struct ObjectiveInfo {
  TransformKind transform = TransformKind::kIdentity;
  double scale = 1.0;
};

ObjectiveInfo parse_objective(const std::string& objective, std::size_t line, const Reader& reader) {
  const auto tokens = split_spaces(objective);
  if (tokens.empty()) reader.fail(line, "objective is empty", "an objective name");
  const std::string name(tokens[0]);
  ObjectiveInfo info;
  auto param = [&](std::string_view key, double fallback) {
    for (auto token : tokens) {
      if (token.rfind(key, 0) == 0 && token.size() > key.size() && token[key.size()] == ':') {
        double v = 0;
        auto text = token.substr(key.size() + 1);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) reader.fail(line, "objective parameter \"" + std::string(token) + "\" is not a number", "key:number, e.g. sigmoid:1");
        return v;
      }
    }
    return fallback;
  };
  auto has_flag = [&](std::string_view flag) {
    for (auto token : tokens) if (token == flag) return true;
    return false;
  };
  static const std::set<std::string> regression{"regression", "regression_l2", "regression_l1", "huber", "fair",
                                                "quantile", "mape", "l1", "l2", "mse", "mae", "rmse"};
  if (name == "binary") {
    info.transform = TransformKind::kSigmoid;
    info.scale = param("sigmoid", 1.0);
  } else if (name == "multiclass" || name == "softmax") {
    info.transform = TransformKind::kSoftmax;
  } else if (name == "multiclassova" || name == "multiclass_ova" || name == "ova" || name == "ovr") {
    info.transform = TransformKind::kSigmoid;
    info.scale = param("sigmoid", 1.0);
  } else if (regression.count(name)) {
    info.transform = has_flag("sqrt") ? TransformKind::kSquareSigned : TransformKind::kIdentity;
  } else if (name == "poisson" || name == "gamma" || name == "tweedie") {
    info.transform = TransformKind::kExp;
  } else if (name == "lambdarank" || name == "rank_xendcg" || name == "xendcg" || name == "custom" || name == "none") {
    info.transform = TransformKind::kIdentity;
  } else if (name == "cross_entropy" || name == "xentropy") {
    info.transform = TransformKind::kSigmoid;
  } else if (name == "cross_entropy_lambda" || name == "xentlambda") {
    info.transform = TransformKind::kLog1pExp;
  } else {
    reader.fail(line, "unsupported objective \"" + name + "\"",
                "binary, multiclass, multiclassova, regression (l2, l1, huber, fair, quantile, mape), poisson, gamma, "
                "tweedie, lambdarank, rank_xendcg, cross_entropy or cross_entropy_lambda");
  }
  if (!(info.scale > 0.0) || !std::isfinite(info.scale)) reader.fail(line, "sigmoid parameter is not positive", "a positive number");
  return info;
}

constexpr std::int64_t kMaxLeaves = std::int64_t{1} << 24;

Tree build_tree(const SectionView& s, const std::string& name, std::int32_t num_features, std::int32_t group, const Reader& reader) {
  Tree tree;
  tree.group = group;
  const std::int64_t num_leaves = s.integer("num_leaves", 1, kMaxLeaves);
  const auto leaf_values = s.reals("leaf_value", static_cast<std::size_t>(num_leaves));
  const std::size_t internal = static_cast<std::size_t>(num_leaves - 1);
  const bool is_linear = s.has("is_linear") && s.integer("is_linear", 0, 1) == 1;
  double shrinkage = 1.0;
  (void)shrinkage;  // leaf values already include shrinkage

  tree.nodes.resize(internal + static_cast<std::size_t>(num_leaves));
  tree.leaf_values = leaf_values;
  for (double v : leaf_values) {
    if (!std::isfinite(v)) reader.fail(s.raw("leaf_value").second, name + ": leaf value is not finite", "finite numbers");
  }
  for (std::size_t j = 0; j < static_cast<std::size_t>(num_leaves); ++j) {
    TreeNode& leaf = tree.nodes[internal + j];
    leaf.kind = NodeKind::kLeaf;
    leaf.leaf_index = static_cast<std::uint32_t>(j);
  }

  if (internal > 0) {
    const auto features = s.integers("split_feature", internal, 0, num_features - 1);
    const auto thresholds = s.reals("threshold", internal);
    const auto decision = s.integers("decision_type", internal, 0, 255);
    const auto left = s.integers("left_child", internal, -num_leaves, static_cast<std::int64_t>(internal) - 1);
    const auto right = s.integers("right_child", internal, -num_leaves, static_cast<std::int64_t>(internal) - 1);
    std::vector<std::int64_t> cat_boundaries, cat_threshold;
    const std::int64_t num_cat = s.has("num_cat") ? s.integer("num_cat", 0, kMaxLeaves) : 0;
    if (num_cat > 0) {
      cat_boundaries = s.integers("cat_boundaries", static_cast<std::size_t>(num_cat + 1), 0, std::int64_t{1} << 24);
      cat_threshold = s.integers("cat_threshold", SIZE_MAX, 0, 0xFFFFFFFFll);
      for (std::size_t k = 0; k + 1 < cat_boundaries.size(); ++k) {
        if (cat_boundaries[k] > cat_boundaries[k + 1] || cat_boundaries[k + 1] > static_cast<std::int64_t>(cat_threshold.size())) {
          reader.fail(s.raw("cat_boundaries").second, name + ": cat_boundaries are not increasing within cat_threshold",
                      "increasing offsets up to " + std::to_string(cat_threshold.size()));
        }
      }
    }
    std::map<std::size_t, std::pair<std::uint32_t, std::uint32_t>> decoded;  // category set -> list
    auto child = [&](std::int64_t c) {
      return static_cast<std::int32_t>(c >= 0 ? c : static_cast<std::int64_t>(internal) + ~c);
    };
    for (std::size_t i = 0; i < internal; ++i) {
      TreeNode& node = tree.nodes[i];
      const auto type = static_cast<std::uint32_t>(decision[i]);
      const std::uint32_t missing_type = (type >> 2) & 3u;
      if (missing_type == 3) reader.fail(s.raw("decision_type").second, name + ": node " + std::to_string(i) + " has missing type 3", "0 (None), 1 (Zero) or 2 (NaN)");
      node.feature = static_cast<std::int32_t>(features[i]);
      node.left = child(left[i]);
      node.right = child(right[i]);
      node.default_left = (type & 2u) != 0;
      if (type & 1u) {
        node.kind = NodeKind::kCategorical;
        // LightGBM sends NaN right whatever the missing type, and the listed categories left.
        node.missing = MissingRule::kNanGoesDefault;
        node.default_left = false;
        node.categories_go_left = true;
        const double index = thresholds[i];
        if (!(index >= 0 && index < static_cast<double>(num_cat)) || index != std::floor(index)) {
          reader.fail(s.raw("threshold").second, name + ": categorical node " + std::to_string(i) + " refers to category set " + std::to_string(index),
                      "an index below num_cat = " + std::to_string(num_cat));
        }
        const auto k = static_cast<std::size_t>(index);
        // Nodes that share a category set share its decoded list, so the IR stays as small as the file.
        if (auto shared = decoded.find(k); shared != decoded.end()) {
          node.category_begin = shared->second.first;
          node.category_count = shared->second.second;
          continue;
        }
        node.category_begin = static_cast<std::uint32_t>(tree.categories.size());
        for (std::int64_t w = cat_boundaries[k]; w < cat_boundaries[k + 1]; ++w) {
          const auto word = static_cast<std::uint32_t>(cat_threshold[static_cast<std::size_t>(w)]);
          for (std::uint32_t bit = 0; bit < 32; ++bit) {
            if (word & (1u << bit)) tree.categories.push_back(static_cast<std::uint32_t>((w - cat_boundaries[k]) * 32 + bit));
          }
        }
        node.category_count = static_cast<std::uint32_t>(tree.categories.size() - node.category_begin);
        decoded.emplace(k, std::make_pair(node.category_begin, node.category_count));
      } else {
        node.kind = NodeKind::kNumerical;
        node.threshold = thresholds[i];
        node.missing = missing_type == 0 ? MissingRule::kNanAsZero
                       : missing_type == 1 ? MissingRule::kZeroGoesDefault
                                           : MissingRule::kNanGoesDefault;
      }
    }
  }

  if (is_linear) {
    const auto constants = s.reals("leaf_const", static_cast<std::size_t>(num_leaves));
    const auto counts = s.integers("num_features", static_cast<std::size_t>(num_leaves), 0, num_features);
    std::size_t total = 0;
    for (auto c : counts) total += static_cast<std::size_t>(c);
    const auto features = s.integers("leaf_features", total, 0, num_features - 1);
    const auto coefficients = s.reals("leaf_coeff", total);
    std::size_t offset = 0;
    for (std::size_t j = 0; j < static_cast<std::size_t>(num_leaves); ++j) {
      LinearLeaf linear;
      linear.constant = constants[j];
      for (std::int64_t c = 0; c < counts[j]; ++c, ++offset) {
        linear.features.push_back(static_cast<std::int32_t>(features[offset]));
        linear.coefficients.push_back(coefficients[offset]);
      }
      tree.nodes[internal + j].linear_leaf = static_cast<std::int32_t>(tree.linear_leaves.size());
      tree.linear_leaves.push_back(std::move(linear));
    }
  }
  return tree;
}

}  // namespace

bool LightgbmTextLoader::recognizes(std::string_view bytes) const {
  return bytes.rfind("tree\n", 0) == 0 || bytes.rfind("tree\r\n", 0) == 0;
}

Model LightgbmTextLoader::load(std::string_view bytes, const std::string& where) const {
  Reader reader(bytes, where);
  std::string_view line;
  reader.next_line(line);  // "tree"
  std::string_view stop;
  bool at_end = false;
  const Section header_section = read_section(reader, stop, at_end);
  const SectionView header(header_section, reader, "header");
  if (header.has("version")) {
    const std::string version = header.text("version");
    if (version != "v2" && version != "v3" && version != "v4") {
      reader.fail(header.raw("version").second, "unsupported model version \"" + version + "\"", "v2, v3 or v4");
    }
  }
  const auto num_class = static_cast<std::int32_t>(header.integer("num_class", 1, 1 << 20));
  const auto per_iteration = static_cast<std::int32_t>(header.integer("num_tree_per_iteration", 1, 1 << 20));
  const auto num_features = static_cast<std::int32_t>(header.integer("max_feature_idx", -1, kMaxFeatures - 1) + 1);
  const auto [objective_text, objective_line] = header.raw("objective");
  const ObjectiveInfo objective = parse_objective(std::string(objective_text), objective_line, reader);

  Model model;
  model.source_format = std::string(format_name());
  model.objective = std::string(objective_text);
  model.input_precision = Precision::kFloat64;
  model.comparison = Comparison::kLessOrEqual;
  model.accumulation = Precision::kFloat64;
  model.num_outputs = per_iteration;
  model.base_margin.assign(static_cast<std::size_t>(per_iteration), 0.0);
  model.transform.kind = objective.transform;
  model.transform.scale = objective.scale;
  model.transform.precision = Precision::kFloat64;
  if (objective.transform == TransformKind::kSoftmax && per_iteration != num_class) {
    reader.fail(objective_line, "multiclass model with " + std::to_string(per_iteration) + " trees per iteration and " +
                                    std::to_string(num_class) + " classes", "one tree per class and iteration");
  }

  model.features.resize(static_cast<std::size_t>(num_features));
  for (std::int32_t f = 0; f < num_features; ++f) model.features[static_cast<std::size_t>(f)].name = "Column_" + std::to_string(f);
  if (header.has("feature_names")) {
    const auto [names_text, names_line] = header.raw("feature_names");
    const auto names = split_spaces(names_text);
    if (names.size() != static_cast<std::size_t>(num_features)) {
      reader.fail(names_line, "feature_names has " + std::to_string(names.size()) + " names", std::to_string(num_features) + " (max_feature_idx + 1)");
    }
    std::set<std::string_view> seen;
    for (std::size_t f = 0; f < names.size(); ++f) {
      if (!seen.insert(names[f]).second) reader.fail(names_line, "duplicate feature name \"" + std::string(names[f]) + "\"", "unique names");
      model.features[f].name = std::string(names[f]);
    }
    model.has_feature_names = true;
  }
  if (header.has("feature_infos")) {
    // A feature_infos entry that lists categories ("-1:0:1:3") marks a categorical feature.
    const auto infos = split_spaces(header.raw("feature_infos").first);
    for (std::size_t f = 0; f < infos.size() && f < model.features.size(); ++f) {
      if (!infos[f].empty() && infos[f].front() != '[' && infos[f] != "none") model.features[f].type = FeatureType::kCategorical;
    }
  }

  // Trees follow, each introduced by "Tree=N"; "end of trees" closes the list.
  bool closed = false;
  while (!at_end) {
    if (stop == "end of trees") {
      closed = true;
      break;
    }
    if (stop.rfind("Tree=", 0) == 0) {
      const std::size_t tree_line = reader.line_number();
      const std::string name = "tree " + std::string(stop.substr(5));
      const std::size_t expected_index = model.trees.size();
      if (stop.substr(5) != std::to_string(expected_index)) {
        reader.fail(tree_line, "found \"" + std::string(stop) + "\"", "Tree=" + std::to_string(expected_index));
      }
      Section section = read_section(reader, stop, at_end);
      section.first_line = tree_line;
      const SectionView view(section, reader, name);
      const auto group = static_cast<std::int32_t>(expected_index % static_cast<std::size_t>(per_iteration));
      model.trees.push_back(build_tree(view, name, num_features, group, reader));
      continue;
    }
    // A blank line between sections: keep reading.
    Section ignored = read_section(reader, stop, at_end);
    if (!ignored.fields.empty()) {
      reader.fail(ignored.first_line, "unexpected lines between trees", "\"Tree=N\" or \"end of trees\"");
    }
  }
  if (!closed) reader.fail(reader.line_number(), "the file ends before \"end of trees\" (truncated?)", "a complete model file");
  if (model.trees.empty()) reader.fail(reader.line_number(), "model has no trees", "at least one tree");
  if (model.trees.size() % static_cast<std::size_t>(per_iteration) != 0) {
    reader.fail(reader.line_number(), std::to_string(model.trees.size()) + " trees is not a whole number of iterations",
                "a multiple of num_tree_per_iteration = " + std::to_string(per_iteration));
  }
  if (header_section.flags.count("average_output")) {
    model.average_divisor = static_cast<double>(model.trees.size() / static_cast<std::size_t>(per_iteration));
  }

  if (per_iteration == 1) {
    model.output_names = {"prediction"};
  } else {
    for (std::int32_t k = 0; k < per_iteration; ++k) model.output_names.push_back("class_" + std::to_string(k));
  }
  return model;
}

}  // namespace orchard
