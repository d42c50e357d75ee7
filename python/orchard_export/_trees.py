"""Tree ensembles: scikit-learn's fitted trees as Orchard trees (docs/model-format.md, "trees").

scikit-learn's own trees (DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*,
IsolationForest) compare the input cast to float32 against a double threshold, `x <= t`. The file
stores the largest float32 not above t, which makes the same decision for every float32 x, with
"input_precision": "float32". HistGradientBoosting compares doubles and stores thresholds as they are.
"""
import math

import numpy as np

from ._errors import UnsupportedEstimator


def float32_threshold(t):
    """The largest float32 not above the double t: `float32(x) <= result` iff `float32(x) <= t`."""
    v = np.float32(t)
    if float(v) > t:
        v = np.nextafter(v, np.float32(-np.inf))
    return float(v)


def sklearn_tree(tree, leaf_values, feature_map=None):
    """One sklearn.tree._tree.Tree; leaf_values[i]: the value (number or list) of leaf node i."""
    left = tree.children_left.tolist()
    right = tree.children_right.tolist()
    feature = tree.feature.tolist()
    threshold = tree.threshold.tolist()
    out = {"left": [], "right": [], "feature": [], "threshold": [], "leaf_value": []}
    for i in range(tree.node_count):
        if left[i] == -1:
            out["left"].append(-1)
            out["right"].append(-1)
            out["feature"].append(-1)
            out["threshold"].append(0.0)
            out["leaf_value"].append(leaf_values[i])
        else:
            f = feature[i] if feature_map is None else int(feature_map[feature[i]])
            out["left"].append(left[i])
            out["right"].append(right[i])
            out["feature"].append(f)
            out["threshold"].append(_json_threshold(float32_threshold(threshold[i])))
            out["leaf_value"].append(None)
    return out


def _check_single_output(est):
    if getattr(est, "n_outputs_", 1) != 1:
        raise UnsupportedEstimator(f"{type(est).__name__} with {est.n_outputs_} outputs is not supported; one output only")


def _class_probabilities(tree):
    """Per-node class probabilities exactly as DecisionTreeClassifier.predict_proba computes them."""
    proba = tree.value[:, 0, :]
    normalizer = proba.sum(axis=1)[:, np.newaxis]
    normalizer[normalizer == 0.0] = 1.0
    return (proba / normalizer).tolist()


def class_names(est):
    """class_<label> per class, in predict_proba's column order (labels 0.0, 1.0 read as 0, 1)."""
    names = []
    for c in est.classes_:
        c = c.item() if hasattr(c, "item") else c
        if isinstance(c, float) and c.is_integer():
            c = int(c)
        names.append(f"class_{c}")
    return names


def decision_tree(est, classifier):
    _check_single_output(est)
    doc = _float32_trees()
    if classifier:
        doc["num_outputs"] = len(est.classes_)
        doc["output_names"] = class_names(est)
        tree = sklearn_tree(est.tree_, _class_probabilities(est.tree_))
        tree["leaf_size"] = len(est.classes_)
    else:
        doc["num_outputs"] = 1
        tree = sklearn_tree(est.tree_, est.tree_.value[:, 0, 0].tolist())
    doc["trees"] = [tree]
    return doc


def forest(est, classifier):
    """RandomForest / ExtraTrees: the trees' predictions (probabilities for classifiers) averaged."""
    _check_single_output(est)
    doc = _float32_trees()
    trees = []
    for member in est.estimators_:
        if classifier:
            tree = sklearn_tree(member.tree_, _class_probabilities(member.tree_))
            tree["leaf_size"] = len(est.classes_)
        else:
            tree = sklearn_tree(member.tree_, member.tree_.value[:, 0, 0].tolist())
        trees.append(tree)
    doc["trees"] = trees
    doc["average_divisor"] = float(len(est.estimators_))
    if classifier:
        doc["num_outputs"] = len(est.classes_)
        doc["output_names"] = class_names(est)
    else:
        doc["num_outputs"] = 1
    return doc


def gradient_boosting(est, classifier):
    """GradientBoosting*: init raw prediction + learning_rate * each tree, in stage order."""
    if not (isinstance(est.init_, str) and est.init_ == "zero"):
        from sklearn.dummy import DummyClassifier, DummyRegressor
        if not isinstance(est.init_, (DummyClassifier, DummyRegressor)):
            raise UnsupportedEstimator(f"{type(est).__name__} with init={type(est.init_).__name__} is not supported; "
                                       "the default init or init='zero'")
    K = est.estimators_.shape[1]
    # The init estimator's raw prediction is the same for every row (a prior or a mean).
    zeros = np.zeros((1, est.n_features_in_), dtype=np.float32)
    base = est._raw_predict_init(zeros)[0].tolist()
    doc = _float32_trees()
    doc["num_outputs"] = K
    doc["base_margin"] = [float(b) for b in base]
    trees = []
    for stage in est.estimators_:
        for k, member in enumerate(stage):
            values = (est.learning_rate * member.tree_.value[:, 0, 0]).tolist()
            tree = sklearn_tree(member.tree_, values)
            tree["group"] = k
            trees.append(tree)
    doc["trees"] = trees
    if classifier:
        doc["output_names"] = class_names(est)
        loss = est.loss
        if K == 1:
            # exponential loss: predict_proba = expit(2 * raw)
            doc["transform"] = {"kind": "sigmoid_pair", "scale": 2.0 if loss == "exponential" else 1.0}
        else:
            doc["transform"] = {"kind": "softmax"}
    else:
        doc["num_outputs"] = 1
    return doc


def _hgb_categorical_columns(est):
    """{column: sorted known raw categories} for HistGradientBoosting's categorical features."""
    if est.is_categorical_ is None:
        return {}
    known_bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    out = {}
    for f, categorical in enumerate(est.is_categorical_):
        if categorical:
            out[f] = _bits(known_bitsets[f_idx_map[f]])
    return out


def _bits(words):
    return [32 * w + b for w in range(len(words)) for b in range(32) if (int(words[w]) >> b) & 1]


def hist_gradient_boosting(est, classifier, blocks, column_blocks):
    """HistGradientBoosting*: baseline + each tree, doubles compared as they are. Categorical features
    become ordinal input steps over their known categories (unknown categories read as missing, as in
    scikit-learn), so splits list positions in that list."""
    K = est.n_trees_per_iteration_
    positions = {}
    for column, known in _hgb_categorical_columns(est).items():
        positions[column] = _categorical_step(blocks, column_blocks, column, known)
    doc = {"input_precision": "float64", "comparison": "<=", "accumulation": "float64", "num_outputs": K,
           "base_margin": [float(v) for v in np.ravel(est._baseline_prediction)]}
    trees = []
    for iteration in est._predictors:
        for k, predictor in enumerate(iteration):
            trees.append(_hgb_tree(predictor, k, positions))
    doc["trees"] = trees
    link = type(est._loss.link).__name__
    if classifier:
        doc["output_names"] = class_names(est)
        doc["transform"] = {"kind": "sigmoid_pair"} if K == 1 else {"kind": "softmax"}
    elif link == "LogLink":
        doc["transform"] = {"kind": "exp"}
    elif link != "IdentityLink":
        raise UnsupportedEstimator(f"{type(est).__name__} with loss {est.loss!r} is not supported")
    return doc


def _categorical_step(blocks, column_blocks, column, known):
    """Turns the block feeding `column` into an ordinal step over the known categories; returns
    {raw category: position}."""
    index = column_blocks[column]
    block = blocks[index]
    if block.width() != 1:
        raise UnsupportedEstimator("a one-hot column used as a HistGradientBoosting categorical feature is not supported")
    if block.kind == "copy":
        block.kind = "ordinal"
        block.values = [float(c) for c in known]
        block.unknown = float("nan")
        return {c: p for p, c in enumerate(known)}
    if block.kind == "ordinal":
        # OrdinalEncoder -> HistGradientBoosting: one lookup from the raw value to the known code's position.
        if not math.isnan(block.unknown) and int(block.unknown) == block.unknown and int(block.unknown) in known:
            raise UnsupportedEstimator("OrdinalEncoder's unknown_value is a known category of the HistGradientBoosting model")
        values, positions = [], {}
        for c in known:
            if 0 <= c < len(block.values):
                positions[c] = len(values)
                values.append(block.values[c])
        block.values = values
        block.unknown = float("nan")
        return positions
    raise UnsupportedEstimator("a scaled column used as a HistGradientBoosting categorical feature is not supported")


def _hgb_tree(predictor, group, positions):
    nodes = predictor.nodes
    bitsets = predictor.raw_left_cat_bitsets
    out = {"group": group, "left": [], "right": [], "feature": [], "threshold": [], "default_left": [],
           "leaf_value": [], "categories": []}
    any_categorical = False
    for node in nodes:
        if node["is_leaf"]:
            out["left"].append(-1)
            out["right"].append(-1)
            out["feature"].append(-1)
            out["threshold"].append(0.0)
            out["default_left"].append(False)
            out["leaf_value"].append(float(node["value"]))
            out["categories"].append(None)
            continue
        f = int(node["feature_idx"])
        out["left"].append(int(node["left"]))
        out["right"].append(int(node["right"]))
        out["feature"].append(f)
        out["default_left"].append(bool(node["missing_go_to_left"]))
        out["leaf_value"].append(None)
        if node["is_categorical"]:
            any_categorical = True
            left = _bits(bitsets[int(node["bitset_idx"])])
            out["categories"].append(sorted(positions[f][c] for c in left if c in positions[f]))
            out["threshold"].append(0.0)
        else:
            out["categories"].append(None)
            out["threshold"].append(_json_threshold(float(node["num_threshold"])))
    if not any_categorical:
        del out["categories"]
    return out


def _json_threshold(t):
    # JSON has no infinities: the format spells them "inf" / "-inf" (HistGradientBoosting's splits
    # that separate only the missing values).
    if math.isinf(t):
        return "inf" if t > 0 else "-inf"
    return t


def isolation_forest(est):
    """IsolationForest.decision_function: each tree's leaf holds depth + c(n_samples) (its path length),
    the average is normalized by c(max_samples), and -(2^-x) - offset_ is the score."""
    from sklearn.ensemble._iforest import _average_path_length
    trees = []
    for member, features in zip(est.estimators_, est.estimators_features_):
        tree = member.tree_
        depth = np.zeros(tree.node_count, dtype=np.int64)
        for i in range(tree.node_count):
            if tree.children_left[i] != -1:
                depth[tree.children_left[i]] = depth[i] + 1
                depth[tree.children_right[i]] = depth[i] + 1
        # As scikit-learn: (nodes on the path) + c(n_samples of the leaf) - 1.0, in this order.
        path = (depth + 1) + _average_path_length(tree.n_node_samples) - 1.0
        trees.append(sklearn_tree(tree, path.tolist(), feature_map=features))
    doc = _float32_trees()
    doc["num_outputs"] = 1
    doc["trees"] = trees
    divisor = float(len(est.estimators_) * _average_path_length([est.max_samples_])[0])
    if divisor <= 0.0:
        raise UnsupportedEstimator("IsolationForest with max_samples=1 is not supported (every score is the same)")
    doc["average_divisor"] = divisor
    doc["transform"] = {"kind": "isolation_score", "offset": float(est.offset_)}
    doc["output_names"] = ["score"]
    return doc


def _float32_trees():
    return {"input_precision": "float32", "comparison": "<=", "accumulation": "float64"}
