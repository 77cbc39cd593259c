"""Reading this process's Prometheus samples in unit tests (no multiprocess folder set)."""

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """The current value of one sample; 0 for a series not seen yet."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
