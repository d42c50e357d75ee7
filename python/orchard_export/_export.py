"""Building the Orchard model document for a fitted estimator, and writing it."""
import json
import math

import numpy as np

from . import _linear, _trees
from ._columns import Inputs, apply_transformer, emit_steps, identity_blocks
from ._errors import UnsupportedEstimator

FORMAT_VERSION = 1

SUPPORTED = [
    "DecisionTreeClassifier", "DecisionTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor",
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
    "IsolationForest",
    "LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression",
    "Pipeline and ColumnTransformer of StandardScaler, MinMaxScaler, SimpleImputer, OneHotEncoder, OrdinalEncoder",
]


def _model_document(est, blocks, column_blocks):
    from sklearn import ensemble, linear_model, tree
    kind = type(est)
    if kind is tree.DecisionTreeClassifier:
        return _trees.decision_tree(est, classifier=True)
    if kind is tree.DecisionTreeRegressor:
        return _trees.decision_tree(est, classifier=False)
    if kind in (ensemble.RandomForestClassifier, ensemble.ExtraTreesClassifier):
        return _trees.forest(est, classifier=True)
    if kind in (ensemble.RandomForestRegressor, ensemble.ExtraTreesRegressor):
        return _trees.forest(est, classifier=False)
    if kind is ensemble.GradientBoostingClassifier:
        return _trees.gradient_boosting(est, classifier=True)
    if kind is ensemble.GradientBoostingRegressor:
        return _trees.gradient_boosting(est, classifier=False)
    if kind is ensemble.HistGradientBoostingClassifier:
        return _trees.hist_gradient_boosting(est, True, blocks, column_blocks)
    if kind is ensemble.HistGradientBoostingRegressor:
        return _trees.hist_gradient_boosting(est, False, blocks, column_blocks)
    if kind is ensemble.IsolationForest:
        return _trees.isolation_forest(est)
    if kind in (linear_model.LinearRegression, linear_model.Ridge, linear_model.Lasso, linear_model.ElasticNet):
        return _linear.regressor(est)
    if kind is linear_model.LogisticRegression:
        return _linear.logistic_regression(est)
    raise UnsupportedEstimator.for_estimator(est)


def to_document(estimator, feature_names=None):
    """The Orchard model document (a dict, JSON-ready) for a fitted estimator or Pipeline."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    preprocessing, model = [], estimator
    if isinstance(estimator, Pipeline):
        steps = [s for _, s in estimator.steps if s is not None and not (isinstance(s, str) and s == "passthrough")]
        if not steps:
            raise UnsupportedEstimator("an empty Pipeline has no model")
        preprocessing, model = steps[:-1], steps[-1]
    _model_document_check(model)
    check_is_fitted(model)
    first = preprocessing[0] if preprocessing else model
    n_in = getattr(first, "n_features_in_", None)
    if n_in is None:
        raise UnsupportedEstimator(f"{type(first).__name__} does not record how many inputs it was fitted on")
    by_name = True
    if feature_names is None:
        names = getattr(first, "feature_names_in_", None)
        if names is None:
            names, by_name = [f"f{i}" for i in range(n_in)], False
        feature_names = [str(n) for n in names]
    if len(feature_names) != n_in:
        raise ValueError(f"feature_names has {len(feature_names)} names; the estimator has {n_in} inputs")

    inputs = Inputs(feature_names)
    blocks = identity_blocks(n_in)
    for step in preprocessing:
        blocks = apply_transformer(step, blocks, inputs)
    column_blocks = [i for i, b in enumerate(blocks) for _ in range(b.width())]
    if getattr(model, "n_features_in_", len(column_blocks)) != len(column_blocks):
        raise UnsupportedEstimator(f"the preprocessing yields {len(column_blocks)} columns but {type(model).__name__} "
                                   f"was fitted on {model.n_features_in_}")

    body = _model_document(model, blocks, column_blocks)
    doc = {"format": "orchard-model", "version": FORMAT_VERSION, "producer": _producer(),
           "objective": type(model).__name__ if not preprocessing else
           "Pipeline(" + ", ".join(type(s).__name__ for s in preprocessing + [model]) + ")"}
    doc["features"] = []
    for name, categories in zip(inputs.names, inputs.categories):
        entry = {"name": name, "type": "categorical" if categories is not None else "numeric"}
        if categories is not None:
            entry["categories"] = categories
        doc["features"].append(entry)
    if not by_name:
        doc["match_by"] = "position"
    steps = emit_steps(blocks, inputs)  # after the model, which may turn copies into category lookups
    if steps is not None:
        doc["input_steps"] = steps
    doc.update(body)
    return doc


def _model_document_check(model):
    from sklearn.base import TransformerMixin
    if isinstance(model, TransformerMixin) and not hasattr(model, "predict") and not hasattr(model, "decision_function"):
        raise UnsupportedEstimator(f"the last step, {type(model).__name__}, is not a model; supported models: "
                                   + ", ".join(SUPPORTED[:-1]))


def _producer():
    import sklearn
    return f"orchard_export {FORMAT_VERSION} (scikit-learn {sklearn.__version__})"


def _finite(value, path="$"):
    """JSON has no NaN or infinity: the format writes NaN as null where it allows it."""
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsupportedEstimator(f"non-finite number {value} at {path}")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, f"{path}[{i}]")


def save(estimator, path, feature_names=None):
    """Writes the Orchard model file for `estimator` to `path`. Raises UnsupportedEstimator for an
    estimator or setting Orchard cannot express, naming it and listing what is supported."""
    doc = to_document(estimator, feature_names=feature_names)
    _finite(doc)
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)  # repr of floats: exact round trip
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
