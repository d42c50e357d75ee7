"""The preprocessing in front of a model, as Orchard input steps (docs/model-format.md, "input_steps").

A Block is one input step being built: it reads one raw input feature and yields one column (or K
for a one-hot step). Transformers (scalers, imputers, encoders) rewrite blocks; ColumnTransformer
routes them; the model finally reads the concatenation of the blocks' columns. Anything that cannot
be expressed as one step per block (a scaler after a scaler, an encoder after a scaler, ...) is refused.
"""
import math

import numpy as np

from ._errors import UnsupportedEstimator


class Block:
    def __init__(self, source, kind="copy"):
        self.source = source      # raw input feature index
        self.kind = kind          # copy | affine | standardize | one_hot | ordinal
        self.fill = None          # imputed value for a missing input (a number, or a category label)
        self.offset = 0.0
        self.scale = 1.0
        self.shift = 0.0
        self.values = None        # one_hot / ordinal: numbers, NaN allowed
        self.unknown = float("nan")

    def width(self):
        return len(self.values) if self.kind == "one_hot" else 1

    def copy(self):
        other = Block(self.source, self.kind)
        other.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()})
        return other


class Inputs:
    """The raw input features: names and, for string-valued ones, their category labels."""

    def __init__(self, names):
        self.names = list(names)
        self.categories = [None] * len(self.names)

    def set_categories(self, source, labels, where):
        labels = [str(x) for x in labels]
        if self.categories[source] is not None and self.categories[source] != labels:
            raise UnsupportedEstimator(f"{where}: input \"{self.names[source]}\" is encoded with two different category lists")
        self.categories[source] = labels


def identity_blocks(n):
    return [Block(i) for i in range(n)]


def _is_nan(x):
    return isinstance(x, (float, np.floating)) and math.isnan(x)


def _plain(block, what):
    if block.kind != "copy":
        raise UnsupportedEstimator(f"{what} after another transformation of the same column is not supported "
                                   f"(input step kinds chain only as imputer -> scaler or imputer -> encoder)")


def _standard_scaler(t, blocks):
    out = []
    for j, b in enumerate(blocks):
        _plain(b, "StandardScaler")
        b = b.copy()
        b.kind = "standardize"
        b.offset = float(t.mean_[j]) if t.with_mean and t.mean_ is not None else 0.0
        b.scale = float(t.scale_[j]) if t.with_std and t.scale_ is not None else 1.0
        out.append(b)
    return out


def _min_max_scaler(t, blocks):
    if t.clip:
        raise UnsupportedEstimator("MinMaxScaler(clip=True) is not supported")
    out = []
    for j, b in enumerate(blocks):
        _plain(b, "MinMaxScaler")
        b = b.copy()
        b.kind = "affine"  # scikit-learn: x * scale_ + min_
        b.offset, b.scale, b.shift = 0.0, float(t.scale_[j]), float(t.min_[j])
        out.append(b)
    return out


def _simple_imputer(t, blocks):
    if not _is_nan(t.missing_values) and t.missing_values is not None:
        raise UnsupportedEstimator(f"SimpleImputer(missing_values={t.missing_values!r}) is not supported; only NaN")
    if t.add_indicator:
        raise UnsupportedEstimator("SimpleImputer(add_indicator=True) is not supported")
    out = []
    for j, b in enumerate(blocks):
        stat = t.statistics_[j]
        if _is_nan(stat) or stat is None:
            if getattr(t, "keep_empty_features", False):
                raise UnsupportedEstimator("SimpleImputer(keep_empty_features=True) on an all-missing column is not supported")
            continue  # scikit-learn drops columns that were all missing at fit time
        if b.kind != "copy" or b.fill is not None:
            raise UnsupportedEstimator("SimpleImputer after another transformation of the same column is not supported")
        b = b.copy()
        b.fill = stat.item() if hasattr(stat, "item") else stat
        out.append(b)
    return out


def _category_values(inputs, block, categories, where):
    """The step values for a fitted category array: numbers as they are, labels as their codes."""
    cats = list(categories)
    labels = [c for c in cats if not (_is_nan(c) or c is None)]
    if np.asarray(categories).dtype.kind in "fiub" or all(
            isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in labels):
        return [float("nan") if c is None else float(c) for c in cats]
    if not all(isinstance(c, str) for c in labels):
        raise UnsupportedEstimator(f"{where}: categories of mixed types are not supported")
    inputs.set_categories(block.source, labels, where)
    values = [float(k) for k in range(len(labels))]
    if len(labels) < len(cats):
        values.append(float("nan"))
    return values


def _one_hot_encoder(t, blocks, inputs):
    if getattr(t, "_infrequent_enabled", False):
        raise UnsupportedEstimator("OneHotEncoder with infrequent categories (min_frequency, max_categories) is not supported")
    out = []
    drop = getattr(t, "drop_idx_", None)
    for j, b in enumerate(blocks):
        _plain(b, "OneHotEncoder")
        b = b.copy()
        b.kind = "one_hot"
        values = _category_values(inputs, b, t.categories_[j], "OneHotEncoder")
        if drop is not None and drop[j] is not None:
            del values[int(drop[j])]
        b.values = values
        out.append(b)
    return out


def _ordinal_encoder(t, blocks, inputs):
    unknown = float("nan")
    if t.handle_unknown == "use_encoded_value":
        unknown = float(t.unknown_value)
    missing = float(getattr(t, "encoded_missing_value", float("nan")))
    out = []
    for j, b in enumerate(blocks):
        _plain(b, "OrdinalEncoder")
        b = b.copy()
        b.kind = "ordinal"
        values = _category_values(inputs, b, t.categories_[j], "OrdinalEncoder")
        if any(math.isnan(v) for v in values):
            # scikit-learn gives encoded_missing_value for NaN; Orchard's step gives `unknown` to anything
            # outside the values, so the two must agree.
            if not (math.isnan(missing) and math.isnan(unknown)) and missing != unknown:
                raise UnsupportedEstimator("OrdinalEncoder with a NaN category needs encoded_missing_value equal to unknown_value")
            values = [v for v in values if not math.isnan(v)]
        b.values = values
        b.unknown = unknown
        out.append(b)
    return out


def _select(blocks, indices):
    return [blocks[i] for i in indices]


def apply_transformer(t, blocks, inputs):
    """Blocks after transformer `t` (fitted)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

    if t is None or (isinstance(t, str) and t == "passthrough"):
        return blocks
    if isinstance(t, Pipeline):
        for _, step in t.steps:
            blocks = apply_transformer(step, blocks, inputs)
        return blocks
    if isinstance(t, ColumnTransformer):
        return _column_transformer(t, blocks, inputs)
    if type(t) is StandardScaler:
        return _standard_scaler(t, blocks)
    if type(t) is MinMaxScaler:
        return _min_max_scaler(t, blocks)
    if type(t) is SimpleImputer:
        return _simple_imputer(t, blocks)
    if type(t) is OneHotEncoder:
        return _one_hot_encoder(t, blocks, inputs)
    if type(t) is OrdinalEncoder:
        return _ordinal_encoder(t, blocks, inputs)
    raise UnsupportedEstimator.for_estimator(t)


def _column_transformer(ct, blocks, inputs):
    out = []
    indices_of = ct._transformer_to_input_indices
    for name, t, _ in ct.transformers_:
        if isinstance(t, str) and t == "drop":
            continue
        selected = _select(blocks, list(indices_of[name]))
        if not selected:
            continue
        out.extend(apply_transformer(t, selected, inputs))
    return out


def emit_steps(blocks, inputs):
    """The "input_steps" array, or None when the model reads the raw features as they are."""
    if len(blocks) == len(inputs.names) and all(
            b.kind == "copy" and b.fill is None and b.source == i for i, b in enumerate(blocks)):
        return None
    steps = []
    for b in blocks:
        step = {"kind": b.kind, "source": b.source}
        if b.fill is not None:
            fill = b.fill
            if isinstance(fill, str):
                labels = inputs.categories[b.source]
                if labels is None or fill not in labels:
                    raise UnsupportedEstimator(f"SimpleImputer fills input \"{inputs.names[b.source]}\" with "
                                               f"\"{fill}\", which is not one of its encoder's categories")
                fill = labels.index(fill)
            step["fill"] = float(fill)
        if b.kind in ("affine", "standardize"):
            step["offset"], step["scale"] = b.offset, b.scale
            if b.kind == "affine":
                step["shift"] = b.shift
        if b.kind in ("one_hot", "ordinal"):
            step["values"] = [None if math.isnan(v) else v for v in b.values]
        if b.kind == "ordinal" and not math.isnan(b.unknown):
            step["unknown"] = b.unknown
        steps.append(step)
    return steps
