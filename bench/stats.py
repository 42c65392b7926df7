"""Percentiles of latency samples, in milliseconds."""

from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``samples``; 0.0 when there are none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def latency_ms(samples: Sequence[float], fractions: Sequence[float] = (0.5, 0.95, 0.99)) -> dict[str, float]:
    """``{"n": …, "p50": …, "p95": …, "p99": …}`` from samples already in milliseconds."""
    summary: dict[str, float] = {"n": len(samples)}
    for fraction in fractions:
        summary[f"p{round(fraction * 100)}"] = round(percentile(samples, fraction), 2)
    return summary
