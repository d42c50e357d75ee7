"""Export fitted scikit-learn estimators to Orchard's model format (docs/model-format.md).

    import orchard_export
    orchard_export.save(estimator, "model.json", feature_names=None)

or, for a pickled or joblib-saved estimator:

    python3 -m orchard_export MODEL.pkl OUT.json

Only fitted attributes are read; no code is pickled into the file. Estimators outside
SUPPORTED are refused with UnsupportedEstimator naming them.
"""
from ._export import SUPPORTED, UnsupportedEstimator, save, to_document

__all__ = ["SUPPORTED", "UnsupportedEstimator", "save", "to_document"]
