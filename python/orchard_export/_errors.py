class UnsupportedEstimator(ValueError):
    """Raised for an estimator (or a setting of one) that Orchard's format cannot express."""

    @classmethod
    def for_estimator(cls, estimator):
        from ._export import SUPPORTED
        return cls(f"{type(estimator).__name__} is not supported; supported: {', '.join(SUPPORTED)}")
