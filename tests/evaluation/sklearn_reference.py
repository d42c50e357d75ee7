#!/usr/bin/python3
"""Reference values for Orchard's evaluation metrics, computed with scikit-learn.

Usage: /usr/bin/python3 sklearn_reference.py TASK in.csv
  TASK: binary | multiclass | regression | ranking

in.csv has a header line and one row per sample; the first column is a case id, so one run can
score many independent data sets:
  binary:     case,label,p              (p = probability of class 1)
  multiclass: case,label,p0,...,p{k-1}  (k = number of columns after label)
  regression: case,label,prediction
  ranking:    case,label,score,group    (group = query id; rows of a query need not be contiguous)

For every case, in order of first appearance, prints a line `case=ID` followed by `metric=value`
lines (value as Python's repr, which round-trips a double). The metric definitions, and the choices
made where scikit-learn has none, are documented in src/evaluation/metrics.h. Exit status 2 on bad
usage or input; 3 if scikit-learn cannot be imported.
"""

import csv
import math
import sys
import warnings


def main(argv):
    if len(argv) != 3 or argv[1] not in ("binary", "multiclass", "regression", "ranking"):
        sys.stderr.write(__doc__)
        return 2
    try:
        import numpy as np
        from sklearn import metrics
        from sklearn.metrics import _ranking
    except ImportError as error:
        sys.stderr.write("scikit-learn is not importable: %s\n" % error)
        return 3
    warnings.simplefilter("ignore")  # zero_division, R^2 with one sample: the values are what we test

    task, path = argv[1], argv[2]
    cases = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        for row in reader:
            if row:
                cases.setdefault(row[0], []).append(row[1:])

    for case, rows in cases.items():
        print("case=%s" % case)
        labels = np.array([float(r[0]) for r in rows])
        if task == "binary":
            p = np.array([float(r[1]) for r in rows])
            predicted = (p > 0.5).astype(int)
            y = labels.astype(int)
            values = [
                ("auc", metrics.roc_auc_score(y, p)),
                ("logloss", metrics.log_loss(y, p, labels=[0, 1])),
                ("accuracy", metrics.accuracy_score(y, predicted)),
                ("f1", metrics.f1_score(y, predicted)),
                ("precision", metrics.precision_score(y, predicted)),
                ("recall", metrics.recall_score(y, predicted)),
            ]
        elif task == "multiclass":
            k = len(header) - 2
            p = np.array([[float(v) for v in r[1:]] for r in rows])
            y = labels.astype(int)
            values = [
                ("accuracy", metrics.accuracy_score(y, np.argmax(p, axis=1))),
                ("macro_f1", metrics.f1_score(y, np.argmax(p, axis=1), average="macro")),
                ("logloss", metrics.log_loss(y, p, labels=list(range(k)))),
            ]
        elif task == "regression":
            pred = np.array([float(r[1]) for r in rows])
            values = [
                ("rmse", math.sqrt(metrics.mean_squared_error(labels, pred))),
                ("mae", metrics.mean_absolute_error(labels, pred)),
                ("r2", metrics.r2_score(labels, pred)),
            ]
        else:
            scores = np.array([float(r[1]) for r in rows])
            queries = {}
            for i, r in enumerate(rows):
                queries.setdefault(r[2], []).append(i)
            values = []
            for cutoff in (5, 10):
                per_query = []
                for indices in queries.values():
                    rel = labels[indices][np.newaxis, :]
                    score = scores[indices][np.newaxis, :]
                    if len(indices) == 1:
                        # ndcg_score refuses a single column; apply its per-sample formula directly.
                        per_query.append(_ranking._ndcg_sample_scores(rel, score, k=cutoff)[0])
                    else:
                        per_query.append(metrics.ndcg_score(rel, score, k=cutoff))
                values.append(("ndcg@%d" % cutoff, float(np.mean(per_query))))
        for name, value in values:
            print("%s=%r" % (name, float(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
