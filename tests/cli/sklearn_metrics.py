#!/usr/bin/python3
"""Computes scikit-learn's metrics for `orchard evaluate`'s parity test.

usage: sklearn_metrics.py TASK LABELS.csv PREDICTIONS.csv
LABELS.csv: a header row with the label column first; PREDICTIONS.csv: `orchard predict` output.
Prints one line per metric: name=value. Exit 3 if scikit-learn is missing.
"""
import sys

try:
    import numpy as np
    from sklearn import metrics
except ImportError:
    sys.exit(3)


def read(path, column=None):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    if column is not None:
        index = header.index(column)
        return np.array([float(r[index]) for r in rows])
    return np.array([[float(v) for v in r] for r in rows])


task, data, label, predictions = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
y = read(data, label)
p = read(predictions)
if task == "binary":
    prob = p[:, -1]  # P(1): the only column, or the second of [P(0), P(1)]
    hard = (prob > 0.5).astype(int)
    print(f"auc={metrics.roc_auc_score(y, prob)!r}")
    print(f"logloss={metrics.log_loss(y, prob, labels=[0, 1])!r}")
    print(f"accuracy={metrics.accuracy_score(y, hard)!r}")
    print(f"f1={metrics.f1_score(y, hard, zero_division=0)!r}")
    print(f"precision={metrics.precision_score(y, hard, zero_division=0)!r}")
    print(f"recall={metrics.recall_score(y, hard, zero_division=0)!r}")
elif task == "multiclass":
    hard = p.argmax(axis=1)
    print(f"accuracy={metrics.accuracy_score(y, hard)!r}")
    print(f"macro_f1={metrics.f1_score(y, hard, average='macro')!r}")
    print(f"logloss={metrics.log_loss(y, p, labels=list(range(p.shape[1])))!r}")
else:
    print(f"rmse={np.sqrt(metrics.mean_squared_error(y, p[:, 0]))!r}")
    print(f"mae={metrics.mean_absolute_error(y, p[:, 0])!r}")
    print(f"r2={metrics.r2_score(y, p[:, 0])!r}")
