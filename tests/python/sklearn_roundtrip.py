"""Trains every estimator orchard_export supports on the fixture datasets, exports each, and writes
what scikit-learn itself predicts, for tests/python/sklearn_export_test.cc to compare with
`orchard predict`.

usage: sklearn_roundtrip.py FIXTURES_DATA_DIR OUT_DIR

For each case NAME it writes OUT_DIR/NAME.json (the exported model), NAME.input.csv (test rows,
header = the model's inputs), NAME.expected.csv (predict_proba / predict / decision_function, no
header, repr of each double) and, where the estimator has a decision_function, NAME.raw.csv; the
list of cases goes to OUT_DIR/MANIFEST.tsv (name, whether a raw file exists). It also pickles an
unsupported estimator to OUT_DIR/unsupported.pkl for the refusal test. Exits 77 without scikit-learn.
"""
import csv
import math
import os
import pickle
import sys
import warnings

try:
    import numpy as np
    import sklearn  # noqa: F401
except ImportError as e:
    print(f"skipped: {e}", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import orchard_export  # noqa: E402
from sklearn import ensemble, linear_model, tree  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

warnings.filterwarnings("ignore")
DATA, OUT = sys.argv[1], sys.argv[2]
PLANS = ["basic", "standard", "plus", "premium", "gold"]


def read(name, rows=None):
    with open(os.path.join(DATA, name)) as f:
        reader = csv.reader(f)
        header = next(reader)
        body = [r for _, r in zip(range(rows) if rows else iter(int, 1), reader)]
    X = np.array([[float(c) if c != "" else np.nan for c in r[:-1]] for r in body])
    y = np.array([float(r[-1]) for r in body])
    return header[:-1], X, y


def dataset(name, rows=None, test_rows=None):
    names, X, y = read(f"{name}_train.csv", rows)
    _, Xt, _ = read(f"{name}_test.csv", test_rows)
    return names, X, y, Xt


def number(v):
    return "" if isinstance(v, float) and math.isnan(v) else (v if isinstance(v, str) else repr(float(v)))


def write_csv(path, rows, header=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        if header:
            w.writerow(header)
        for r in rows:
            w.writerow([number(v) for v in r])


manifest = []


def case(name, est, names, X, y, Xt, raw=None):
    est.fit(X, y) if y is not None else est.fit(X)
    orchard_export.save(est, os.path.join(OUT, name + ".json"), feature_names=names)
    write_csv(os.path.join(OUT, name + ".input.csv"), Xt.tolist(), names)
    if hasattr(est, "predict_proba"):
        expected = est.predict_proba(Xt)
    elif type(est).__name__ == "IsolationForest":
        expected = est.decision_function(Xt)
    else:
        expected = est.predict(Xt)
    write_csv(os.path.join(OUT, name + ".expected.csv"), np.asarray(expected).reshape(len(Xt), -1).tolist())
    has_raw = raw is not False and hasattr(est, "decision_function") and type(est).__name__ != "IsolationForest"
    if has_raw:
        write_csv(os.path.join(OUT, name + ".raw.csv"), np.asarray(est.decision_function(Xt)).reshape(len(Xt), -1).tolist())
    manifest.append((name, int(has_raw)))


def with_missing(X, every, seed):
    X = X.copy()
    rng = np.random.RandomState(seed)
    mask = rng.rand(*X.shape) < 1.0 / every
    X[mask] = np.nan
    return X


iris = dataset("iris")
cancer = dataset("breast_cancer")
diabetes = dataset("diabetes")
wine = dataset("wine")
churn = dataset("churn", rows=3000, test_rows=400)

# Trees and forests (float32 inputs, x <= t).
case("decision_tree_classifier_iris", tree.DecisionTreeClassifier(random_state=0), *iris)
case("decision_tree_regressor_diabetes", tree.DecisionTreeRegressor(max_depth=8, random_state=0), *diabetes)
case("random_forest_classifier_cancer", ensemble.RandomForestClassifier(n_estimators=30, max_depth=8, random_state=0), *cancer)
case("random_forest_regressor_diabetes", ensemble.RandomForestRegressor(n_estimators=30, random_state=0), *diabetes)
case("extra_trees_classifier_wine", ensemble.ExtraTreesClassifier(n_estimators=30, random_state=0), *wine)
case("extra_trees_regressor_diabetes", ensemble.ExtraTreesRegressor(n_estimators=20, max_depth=10, random_state=0), *diabetes)

# Gradient boosting: binary, multiclass, regressor, init='zero', exponential loss.
case("gradient_boosting_binary_cancer", ensemble.GradientBoostingClassifier(n_estimators=40, random_state=0), *cancer)
case("gradient_boosting_multiclass_iris", ensemble.GradientBoostingClassifier(n_estimators=30, random_state=0), *iris)
case("gradient_boosting_multiclass_wine_zero_init",
     ensemble.GradientBoostingClassifier(n_estimators=20, init="zero", random_state=0), *wine)
case("gradient_boosting_exponential_cancer",
     ensemble.GradientBoostingClassifier(n_estimators=20, loss="exponential", random_state=0), *cancer)
case("gradient_boosting_regressor_diabetes", ensemble.GradientBoostingRegressor(n_estimators=50, random_state=0), *diabetes)
case("gradient_boosting_huber_diabetes",
     ensemble.GradientBoostingRegressor(n_estimators=20, loss="huber", subsample=0.8, random_state=0), *diabetes)

# HistGradientBoosting: missing values, categorical features (churn's plan and region are codes).
names, X, y, Xt = churn
plan, region = names.index("plan"), names.index("region")
Xt_churn = Xt.copy()
Xt_churn[::37, plan] = 9.0  # a category never seen in training: read as missing
case("hist_gb_classifier_churn_categorical",
     ensemble.HistGradientBoostingClassifier(max_iter=40, categorical_features=[plan, region], random_state=0),
     names, X, y, Xt_churn)
case("hist_gb_multiclass_iris_missing", ensemble.HistGradientBoostingClassifier(max_iter=20, random_state=0),
     iris[0], with_missing(iris[1], 8, 1), iris[2], with_missing(iris[3], 6, 2))
case("hist_gb_regressor_diabetes_missing", ensemble.HistGradientBoostingRegressor(max_iter=50, random_state=0),
     diabetes[0], with_missing(diabetes[1], 10, 3), diabetes[2], with_missing(diabetes[3], 8, 4))
case("hist_gb_poisson_diabetes", ensemble.HistGradientBoostingRegressor(max_iter=30, loss="poisson", random_state=0),
     *diabetes)

# IsolationForest (with a feature subsample, so trees read remapped features).
case("isolation_forest_cancer", ensemble.IsolationForest(n_estimators=50, max_features=0.5, random_state=0),
     cancer[0], cancer[1], None, cancer[3])

# Linear models.
case("linear_regression_diabetes", linear_model.LinearRegression(), *diabetes)
case("ridge_diabetes", linear_model.Ridge(alpha=0.5), *diabetes)
case("lasso_diabetes", linear_model.Lasso(alpha=0.05), *diabetes)
case("elastic_net_diabetes", linear_model.ElasticNet(alpha=0.01, l1_ratio=0.3), *diabetes)
case("logistic_binary_cancer", Pipeline([("scale", StandardScaler()), ("model", linear_model.LogisticRegression(max_iter=1000))]), *cancer)
case("logistic_multinomial_iris", linear_model.LogisticRegression(max_iter=1000), *iris)
case("logistic_ovr_wine", Pipeline([("scale", MinMaxScaler()), ("model", linear_model.LogisticRegression(multi_class="ovr", max_iter=1000))]), *wine)
case("logistic_binary_multinomial_cancer",
     Pipeline([("scale", StandardScaler()), ("model", linear_model.LogisticRegression(multi_class="multinomial", max_iter=1000))]), *cancer)

# Pipelines over string categories: the caller sends "premium", not a code.
names, X, y, Xt = churn
numeric = [i for i in range(len(names)) if i not in (plan, region)]


def with_plan_names(X, unknown_every=0):
    out = X.astype(object)
    for r in range(len(out)):
        code = out[r, plan]
        out[r, plan] = np.nan if isinstance(code, float) and math.isnan(code) else PLANS[int(code)]
        if unknown_every and r % unknown_every == 0:
            out[r, plan] = "platinum"  # unknown to the encoder
    return out


Xs, Xts = with_plan_names(X), with_plan_names(Xt, unknown_every=29)
columns = ColumnTransformer([
    ("numeric", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())]), numeric),
    ("plan", Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("onehot", OneHotEncoder(handle_unknown="ignore"))]), [plan]),
    ("region", OneHotEncoder(handle_unknown="ignore", drop="first"), [region]),
])
case("pipeline_onehot_logistic_churn", Pipeline([("columns", columns), ("model", linear_model.LogisticRegression(max_iter=2000))]),
     names, Xs, y, Xts)
columns = ColumnTransformer([
    ("plan", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [plan]),
    ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", MinMaxScaler())]), numeric),
], remainder="passthrough")
case("pipeline_ordinal_random_forest_churn",
     Pipeline([("columns", columns), ("model", ensemble.RandomForestClassifier(n_estimators=20, max_depth=10, random_state=0))]),
     names, Xs, y, Xts)
columns = ColumnTransformer([
    ("plan", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), [plan]),
], remainder="passthrough")
case("pipeline_ordinal_hist_gb_churn",
     Pipeline([("columns", columns), ("model", ensemble.HistGradientBoostingClassifier(max_iter=30, categorical_features=[0], random_state=0))]),
     names, Xs, y, Xts)

with open(os.path.join(OUT, "MANIFEST.tsv"), "w") as f:
    for name, has_raw in manifest:
        f.write(f"{name}\t{has_raw}\n")
with open(os.path.join(OUT, "unsupported.pkl"), "wb") as f:
    pickle.dump(SVC().fit(iris[1], iris[2]), f)
