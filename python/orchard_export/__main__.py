"""python3 -m orchard_export MODEL.pkl OUT.json [--feature-names a,b,c]"""
import argparse
import pickle
import sys

from ._export import UnsupportedEstimator, save


def _load(path):
    # joblib files are pickles with numpy arrays stored apart; joblib reads both.
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m orchard_export",
                                     description="Export a pickled scikit-learn estimator to Orchard's model format.")
    parser.add_argument("model", help="a pickle or joblib file holding a fitted estimator")
    parser.add_argument("out", help="the Orchard model file to write (JSON)")
    parser.add_argument("--feature-names", help="comma-separated input names (default: the estimator's feature_names_in_)")
    args = parser.parse_args(argv)
    estimator = _load(args.model)
    names = args.feature_names.split(",") if args.feature_names else None
    try:
        save(estimator, args.out, feature_names=names)
    except UnsupportedEstimator as e:
        print(f"orchard_export: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
