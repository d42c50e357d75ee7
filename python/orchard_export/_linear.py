"""Linear models: margin = intercept + coef . x, computed in double as scikit-learn does."""
import numpy as np

from ._trees import class_names


def _linear_part(coef, intercept):
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (coef.shape[0],))
    return {"coefficients": coef.tolist(), "bias": [float(b) for b in intercept]}


def regressor(est):
    coef = np.asarray(est.coef_)
    outputs = 1 if coef.ndim == 1 else coef.shape[0]
    doc = {"input_precision": "float64", "num_outputs": outputs, "linear": _linear_part(coef, est.intercept_)}
    if outputs > 1:
        doc["output_names"] = [f"prediction_{k}" for k in range(outputs)]
    return doc


def _is_ovr(est):
    """LogisticRegression.predict_proba's own test (scikit-learn 1.2)."""
    return est.multi_class in ("ovr", "warn") or (
        est.multi_class == "auto" and (est.classes_.size <= 2 or est.solver == "liblinear"))


def logistic_regression(est):
    coef = np.asarray(est.coef_)
    classes = len(est.classes_)
    doc = {"input_precision": "float64", "num_outputs": coef.shape[0], "linear": _linear_part(coef, est.intercept_),
           "output_names": class_names(est)}
    if classes == 2:
        # ovr: [1 - expit(d), expit(d)]; multinomial: softmax([-d, d]) = [1 - expit(2d), expit(2d)].
        doc["transform"] = {"kind": "sigmoid_pair", "scale": 1.0 if _is_ovr(est) else 2.0}
    elif _is_ovr(est):
        doc["transform"] = {"kind": "sigmoid_normalized"}
    else:
        doc["transform"] = {"kind": "softmax"}
    return doc
