#include "evaluation/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/error.h"

namespace orchard {
namespace {

// --- Validation --------------------------------------------------------------------------------------

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string row_text(std::size_t row) { return "row " + std::to_string(row); }

[[noreturn]] void fail(std::string what, std::string where = {}, std::string expected = {}) {
  throw Error(ErrorKind::kInvalidArgument, std::move(what), std::move(where), std::move(expected));
}

void check_shapes(TaskKind task, const std::vector<double>& labels, const std::vector<double>& predictions,
                  int k, const std::vector<std::string>* groups) {
  const std::string task_text = std::string(task_name(task)) + " metrics";
  if (labels.empty()) fail("no rows to evaluate: labels are empty", task_text, "at least one labelled row");
  if (task == TaskKind::kMulticlass) {
    if (k < 2) fail("k = " + std::to_string(k) + " class probabilities per row", task_text, "k >= 2");
  } else if (k != 1) {
    fail("k = " + std::to_string(k) + " predictions per row", task_text, "k = 1");
  }
  const std::size_t n = labels.size();
  const std::size_t expected = n * static_cast<std::size_t>(k);
  if (predictions.size() != expected) {
    fail("size mismatch: " + std::to_string(predictions.size()) + " predictions for " + std::to_string(n) +
             " labels with k = " + std::to_string(k),
         task_text, std::to_string(expected) + " predictions (labels x k)");
  }
  if (task == TaskKind::kRanking) {
    if (groups == nullptr) fail("ranking metrics need query groups, none were given", task_text, "one query id per row");
    if (groups->size() != n) {
      fail("size mismatch: " + std::to_string(groups->size()) + " query ids for " + std::to_string(n) + " labels",
           task_text, "one query id per row");
    }
  } else if (groups != nullptr) {
    fail("query groups were given for a " + std::string(task_name(task)) + " task", task_text,
         "groups only for ranking");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(labels[i])) fail("label is " + number_text(labels[i]), row_text(i), "a finite number");
  }
  for (std::size_t j = 0; j < predictions.size(); ++j) {
    if (!std::isfinite(predictions[j])) {
      std::string where = row_text(j / static_cast<std::size_t>(k));
      if (k > 1) where += ", column " + std::to_string(j % static_cast<std::size_t>(k));
      fail("prediction is " + number_text(predictions[j]), where, "a finite number");
    }
  }
}

// --- Shared pieces -----------------------------------------------------------------------------------

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// scikit-learn's _prf_divide with zero_division=0: an undefined ratio is 0.
double ratio_or_zero(std::uint64_t numerator, std::uint64_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// precision_recall_fscore_support with beta = 1, in scikit-learn's operation order.
struct Prf {
  double precision, recall, f1;
};
Prf prf(std::uint64_t true_positives, std::uint64_t predicted, std::uint64_t actual) {
  Prf out;
  out.precision = ratio_or_zero(true_positives, predicted);
  out.recall = ratio_or_zero(true_positives, actual);
  double denominator = out.precision + out.recall;
  if (denominator == 0.0) denominator = 1;
  out.f1 = 2.0 * out.precision * out.recall / denominator;
  return out;
}

// log_loss's eps="auto" for float64 input.
constexpr double kLogLossEps = std::numeric_limits<double>::epsilon();

double clip_probability(double p) { return std::min(std::max(p, kLogLossEps), 1 - kLogLossEps); }

// --- Binary ------------------------------------------------------------------------------------------

// roc_auc_score: trapezoids between the ROC points at each distinct score, from the highest score
// down. Twice the area under the (unnormalized) curve is an integer, accumulated exactly.
double roc_auc(const std::vector<double>& labels, const std::vector<double>& scores, std::uint64_t positives,
               std::uint64_t negatives) {
  std::vector<std::size_t> order(labels.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::uint64_t twice_area = 0, true_positives = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::uint64_t group_tp = 0, group_fp = 0;
    std::size_t end = start;
    while (end < order.size() && scores[order[end]] == scores[order[start]]) {
      (labels[order[end]] == 1 ? group_tp : group_fp) += 1;
      ++end;
    }
    twice_area += group_fp * (2 * true_positives + group_tp);
    true_positives += group_tp;
    start = end;
  }
  return static_cast<double>(twice_area) / 2 / (static_cast<double>(positives) * static_cast<double>(negatives));
}

std::vector<MetricValue> binary_metrics(const std::vector<double>& labels, const std::vector<double>& probabilities) {
  const std::size_t n = labels.size();
  std::uint64_t positives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] != 0 && labels[i] != 1) fail("binary label is " + number_text(labels[i]), row_text(i), "0 or 1");
    if (labels[i] == 1) ++positives;
  }
  const std::uint64_t negatives = n - positives;
  if (positives == 0 || negatives == 0) {
    fail(std::string("only one class present in the labels (all ") + (positives == 0 ? "0" : "1") +
             "): ROC AUC is not defined",
         "binary metrics", "labels containing both 0 and 1");
  }

  std::vector<double> losses(n);
  std::uint64_t correct = 0, true_positives = 0, predicted_positives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool actual = labels[i] == 1;
    // log_loss: the clipped p becomes the row (1 - p, p), which is renormalized.
    const double p = clip_probability(probabilities[i]);
    const double row_sum = (1 - p) + p;
    losses[i] = -std::log((actual ? p : 1 - p) / row_sum);
    const bool predicted = probabilities[i] > 0.5;
    if (predicted == actual) ++correct;
    if (predicted) ++predicted_positives;
    if (predicted && actual) ++true_positives;
  }
  const Prf scores = prf(true_positives, predicted_positives, positives);
  return {
      {"auc", roc_auc(labels, probabilities, positives, negatives), true},
      {"logloss", mean_of(losses), false},
      {"accuracy", static_cast<double>(correct) / static_cast<double>(n), true},
      {"f1", scores.f1, true},
      {"precision", scores.precision, true},
      {"recall", scores.recall, true},
  };
}

// --- Multiclass --------------------------------------------------------------------------------------

std::vector<MetricValue> multiclass_metrics(const std::vector<double>& labels,
                                            const std::vector<double>& probabilities, int k) {
  const std::size_t n = labels.size();
  const std::size_t classes = static_cast<std::size_t>(k);
  std::vector<std::uint64_t> true_count(classes), predicted_count(classes), hit_count(classes);
  std::vector<double> losses(n);
  std::vector<double> row(classes);
  std::uint64_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double label = labels[i];
    if (label < 0 || label > static_cast<double>(k - 1) || label != std::floor(label)) {
      fail("class index is " + number_text(label), row_text(i),
           "an integer class index in 0.." + std::to_string(k - 1));
    }
    const std::size_t actual = static_cast<std::size_t>(label);
    const double* p = probabilities.data() + i * classes;
    std::size_t predicted = 0;  // numpy.argmax: the first maximum
    for (std::size_t c = 1; c < classes; ++c) {
      if (p[c] > p[predicted]) predicted = c;
    }
    ++true_count[actual];
    ++predicted_count[predicted];
    if (predicted == actual) {
      ++hit_count[actual];
      ++correct;
    }
    // log_loss(labels=0..k-1): clip every probability, renormalize the row.
    double row_sum = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      row[c] = clip_probability(p[c]);
      row_sum += row[c];
    }
    losses[i] = -std::log(row[actual] / row_sum);
  }
  // f1_score(average="macro") over the classes present in the labels or the predictions.
  double f1_sum = 0;
  std::size_t present = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    if (true_count[c] == 0 && predicted_count[c] == 0) continue;
    f1_sum += prf(hit_count[c], predicted_count[c], true_count[c]).f1;
    ++present;
  }
  return {
      {"accuracy", static_cast<double>(correct) / static_cast<double>(n), true},
      {"macro_f1", f1_sum / static_cast<double>(present), true},
      {"logloss", mean_of(losses), false},
  };
}

// --- Regression --------------------------------------------------------------------------------------

std::vector<MetricValue> regression_metrics(const std::vector<double>& labels, const std::vector<double>& predictions) {
  const std::size_t n = labels.size();
  const double count = static_cast<double>(n);
  double squared_sum = 0, absolute_sum = 0, label_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double residual = labels[i] - predictions[i];
    squared_sum += residual * residual;
    absolute_sum += std::abs(residual);
    label_sum += labels[i];
  }
  // r2_score: two passes (the mean first) so that a large common offset does not cancel.
  double r2 = std::numeric_limits<double>::quiet_NaN();
  if (n >= 2) {
    const double label_mean = label_sum / count;
    double total_sum = 0;
    for (const double y : labels) total_sum += (y - label_mean) * (y - label_mean);
    if (squared_sum == 0) {
      r2 = 1;
    } else if (total_sum == 0) {
      r2 = 0;
    } else {
      r2 = 1 - squared_sum / total_sum;
    }
  }
  return {
      {"rmse", std::sqrt(squared_sum / count), false},
      {"mae", absolute_sum / count, false},
      {"r2", r2, true},
  };
}

// --- Ranking -----------------------------------------------------------------------------------------

// One query's documents.
struct Document {
  double relevance;
  double score;
};

// ndcg_score(k=cutoff) for one query (scikit-learn's _ndcg_sample_scores with ignore_ties=False).
// discount_cumsum[i] = sum of the discounts of ranks 0..i, constant from cutoff - 1 on.
double query_ndcg(std::vector<Document>& documents, std::size_t cutoff, const std::vector<double>& discount,
                  const std::vector<double>& discount_cumsum) {
  const std::size_t m = documents.size();
  auto cumsum_at = [&](std::size_t i) { return discount_cumsum[std::min(i, cutoff - 1)]; };

  // Ideal DCG: relevances in decreasing order (ties in relevance do not matter).
  std::sort(documents.begin(), documents.end(),
            [](const Document& a, const Document& b) { return a.relevance > b.relevance; });
  double ideal = 0;
  for (std::size_t i = 0; i < std::min(m, cutoff); ++i) ideal += documents[i].relevance * discount[i];
  if (ideal == 0) return 0;  // all irrelevant

  // DCG with tie averaging: each group of equal scores contributes its mean relevance times the sum
  // of the discounts of the ranks it occupies.
  std::sort(documents.begin(), documents.end(), [](const Document& a, const Document& b) { return a.score > b.score; });
  double gain = 0, previous_cumsum = 0;
  for (std::size_t start = 0; start < m;) {
    double relevance_sum = 0;
    std::size_t end = start;
    while (end < m && documents[end].score == documents[start].score) relevance_sum += documents[end++].relevance;
    const double group_cumsum = cumsum_at(end - 1);
    gain += relevance_sum / static_cast<double>(end - start) * (group_cumsum - previous_cumsum);
    previous_cumsum = group_cumsum;
    start = end;
  }
  return gain / ideal;
}

std::vector<MetricValue> ranking_metrics(const std::vector<double>& labels, const std::vector<double>& scores,
                                         const std::vector<std::string>& groups) {
  const std::size_t n = labels.size();
  std::vector<std::vector<Document>> queries;
  std::unordered_map<std::string, std::size_t> query_index;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0) fail("relevance is " + number_text(labels[i]), row_text(i), "a relevance >= 0");
    const auto [it, inserted] = query_index.try_emplace(groups[i], queries.size());
    if (inserted) queries.emplace_back();
    queries[it->second].push_back({labels[i], scores[i]});
  }

  std::vector<MetricValue> out;
  for (const std::size_t cutoff : {std::size_t{5}, std::size_t{10}}) {
    // _dcg_sample_scores: discount = 1 / (log(rank + 2) / log(2)), 0 from rank `cutoff` on.
    std::vector<double> discount(cutoff), discount_cumsum(cutoff);
    for (std::size_t i = 0; i < cutoff; ++i) {
      discount[i] = 1 / (std::log(static_cast<double>(i) + 2) / std::log(2.0));
      discount_cumsum[i] = (i == 0 ? 0 : discount_cumsum[i - 1]) + discount[i];
    }
    double sum = 0;
    for (auto& documents : queries) sum += query_ndcg(documents, cutoff, discount, discount_cumsum);
    out.push_back({"ndcg@" + std::to_string(cutoff), sum / static_cast<double>(queries.size()), true});
  }
  return out;
}

}  // namespace

const char* task_name(TaskKind task) {
  switch (task) {
    case TaskKind::kBinary: return "binary";
    case TaskKind::kMulticlass: return "multiclass";
    case TaskKind::kRegression: return "regression";
    case TaskKind::kRanking: return "ranking";
  }
  return "unknown";
}

std::vector<MetricValue> compute_metrics(TaskKind task, const std::vector<double>& labels,
                                         const std::vector<double>& predictions, int k,
                                         const std::vector<std::string>* groups) {
  check_shapes(task, labels, predictions, k, groups);
  switch (task) {
    case TaskKind::kBinary: return binary_metrics(labels, predictions);
    case TaskKind::kMulticlass: return multiclass_metrics(labels, predictions, k);
    case TaskKind::kRegression: return regression_metrics(labels, predictions);
    case TaskKind::kRanking: return ranking_metrics(labels, predictions, *groups);
  }
  throw Error(ErrorKind::kInternal, "unknown task kind", "compute_metrics");
}

}  // namespace orchard
