// Evaluation metrics for `orchard evaluate`: one model version's predictions scored against labels.
//
// Every metric reproduces scikit-learn 1.2.1 (the function named beside it below), so that a number
// Orchard prints can be checked against, and compared with, one computed in Python. The parity is
// tested to 1e-9 relative (tests/evaluation/metrics_test.cc runs tests/evaluation/sklearn_reference.py).
#pragma once

#include <string>
#include <vector>

namespace orchard {

enum class TaskKind { kBinary, kMulticlass, kRegression, kRanking };

// "binary", "multiclass", "regression", "ranking": the task as users name it (CLI, API, messages).
const char* task_name(TaskKind task);

struct MetricValue {
  std::string name;       // e.g. "auc", "logloss", "ndcg@10"
  double value;           // NaN only for r2 with a single row (see below)
  bool higher_is_better;  // false for logloss, rmse and mae
};

// Computes the standard metrics of `task` for n = labels.size() rows.
//
// labels: n values. binary: 0 or 1; multiclass: a class index 0..k-1 (an integral value);
//   regression: the target; ranking: the graded relevance (>= 0).
// predictions: n*k values, row-major. binary: k = 1, the probability of class 1; multiclass: k >= 2
//   class probabilities per row (they need not sum to 1); regression and ranking: k = 1, the score.
// groups: ranking only (and required for it): n query ids; the rows of one query need not be
//   contiguous and their order does not matter. Must be null for the other tasks.
//
// Returns, in this order:
//   binary:     auc, logloss, accuracy, f1, precision, recall
//   multiclass: accuracy, macro_f1, logloss
//   regression: rmse, mae, r2
//   ranking:    ndcg@5, ndcg@10
//
// Definitions (scikit-learn 1.2.1, default arguments unless stated):
//   auc        roc_auc_score: area under the ROC curve by the trapezoid rule, so tied scores count
//              one half (the average-rank / Mann-Whitney statistic).
//   logloss    log_loss with eps="auto": every probability is clipped to [eps, 1 - eps] with
//              eps = DBL_EPSILON (2.22e-16; 1.2 replaced the old 1e-15 default), a binary p becomes
//              the row (1 - p, p), each row is divided by its sum, and the mean of -ln(row[label]) is
//              returned. Multiclass uses labels=0..k-1, so classes absent from `labels` are allowed.
//   accuracy   accuracy_score. The predicted class is: binary, 1 if p > 0.5 else 0 (p == 0.5 gives
//              0, as scikit-learn's classifiers' argmax over (1 - p, p) does); multiclass, the argmax
//              of the row, the lowest index among equal maxima (numpy.argmax).
//   f1, precision, recall
//              binary f1_score / precision_score / recall_score for class 1 on the thresholded
//              predictions; an undefined ratio (no predicted or no actual positives) is 0
//              (zero_division="warn" behaviour, without the warning).
//   macro_f1   f1_score(average="macro"): the unweighted mean of the per-class F1 over the classes
//              that occur in the labels or in the predicted classes (scikit-learn's unique_labels);
//              classes in neither are left out, undefined ratios are 0.
//   rmse       sqrt(mean_squared_error).
//   mae        mean_absolute_error.
//   r2         r2_score(force_finite=True): 1 - SS_res / SS_tot; 1 when SS_res == 0, 0 when
//              SS_res != 0 and the labels are constant; NaN when n == 1 (scikit-learn returns NaN
//              with a warning: R^2 is not defined for one sample).
//   ndcg@K     ndcg_score(k=K) computed per query, then the unweighted mean over queries. Gain is
//              the relevance itself (linear), the discount 1 / log2(rank + 1), and tied scores are
//              averaged over all their orderings (ignore_ties=False), including a tie that straddles
//              the cut-off K. A query whose relevances are all 0 scores 0 (scikit-learn's convention,
//              unlike LightGBM and XGBoost, which score it 1). A query of one document, which
//              ndcg_score itself refuses, is given the value the same formula yields: 1 if its
//              relevance is > 0, else 0 (it is counted, not skipped, so every query weighs the same).
//
// Throws orchard::Error(ErrorKind::kInvalidArgument), naming the first offending row (0-based index
// into `labels`) where there is one, when:
//   - labels is empty, k is not valid for the task (binary, regression, ranking: 1; multiclass: >= 2),
//     predictions.size() != n * k, or groups->size() != n;
//   - a label or prediction is NaN or infinite;
//   - a binary label is not 0 or 1, or a multiclass label is not an integer in 0..k-1;
//   - binary labels contain only one class (ROC AUC is undefined, as in scikit-learn);
//   - ranking without groups, a negative relevance (scikit-learn 1.2 warns and 1.4 refuses; the
//     result would not be in [0, 1]), or groups given for another task.
// Predicted probabilities are not range-checked: like scikit-learn, logloss clips them and auc uses
// them only as scores.
std::vector<MetricValue> compute_metrics(TaskKind task, const std::vector<double>& labels,
                                         const std::vector<double>& predictions, int k,
                                         const std::vector<std::string>* groups = nullptr);

}  // namespace orchard
