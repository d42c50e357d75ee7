"""Trains the scikit-learn models of bench/sklearn_bench.cc and exports them with orchard_export.

usage: /usr/bin/python3 bench/sklearn_models.py FIXTURES_DIR OUT_DIR

Same shape as the XGBoost fixture higgs_large (500 trees of depth 8 over higgs_like's 28 features):
a RandomForestClassifier (500 trees, max_depth 8), a RandomForestRegressor (500 trees, max_depth 8)
and a HistGradientBoostingClassifier (500 iterations, max_depth 8, no early stopping). Trained on the
first half of higgs_like_test.csv (the only higgs_like file); the benchmark predicts the whole file.
"""
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import orchard_export  # noqa: E402
from sklearn import ensemble  # noqa: E402

fixtures, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(os.path.join(fixtures, "data", "higgs_like_test.csv")) as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = np.array([[float(c) if c else np.nan for c in r] for r in reader])
X, y = rows[:5000, :-1], rows[:5000, -1]
names = header[:-1]
models = {
    "rf_classifier_higgs": ensemble.RandomForestClassifier(n_estimators=500, max_depth=8, n_jobs=2, random_state=0),
    "rf_regressor_higgs": ensemble.RandomForestRegressor(n_estimators=500, max_depth=8, n_jobs=2, random_state=0),
    "hist_gb_classifier_higgs": ensemble.HistGradientBoostingClassifier(
        max_iter=500, max_depth=8, max_leaf_nodes=None, min_samples_leaf=5, early_stopping=False, random_state=0),
}
for name, model in models.items():
    model.fit(X, y)
    orchard_export.save(model, os.path.join(out, name + ".json"), feature_names=names)
    print(name, file=sys.stderr)
