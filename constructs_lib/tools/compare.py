"""Comparing a candidate with a baseline on the same items, in the same run: bootstrap confidence
intervals, and what a condition on the difference concludes.

Quality: each reference item is scored for every model; the difference of the means (candidate
minus baseline) gets a *paired* bootstrap interval: items are drawn with replacement, the same
draw for both models, so an item that is hard for both does not widen the interval. Latency and
cost: each model's requests are drawn with replacement on their own, and the interval is that of
the relative change of the statistic (candidate / baseline - 1).

The interval is the 2.5th to 97.5th percentile of ``RESAMPLES`` resampled statistics (the
percentile method; Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13), drawn
with a fixed seed, so the same scores always give the same interval and the same verdict.

A condition concludes one of three things:

- ``shown``: the whole interval is on the passing side: the difference is real at 95 %;
- ``refuted``: the whole interval is on the failing side;
- ``not significant``: the interval contains the threshold: the data cannot tell.

Who carries the burden decides what "not significant" means. A *margin* over a baseline is a
claim of improvement: it passes only when shown. A *regression bound* against a baseline fails
only when the regression is shown to exceed it; within the noise it passes, and the report says
the difference is not significant.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def text(self, signed: bool = False, percent: bool = False) -> str:
        def number(value: float) -> str:
            if percent:
                return f"{value:+.1%}" if signed else f"{value:.1%}"
            return f"{value:+.3f}" if signed else f"{value:.3f}"

        return f"{number(self.estimate)} (95% CI {number(self.low)} to {number(self.high)})"


def _bounds(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    tail = (1 - CONFIDENCE) / 2

    def at(q: float) -> float:
        position = (len(ordered) - 1) * q
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return at(tail), at(1 - tail)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def mean_interval(values: Sequence[float], seed: int = 0) -> Interval:
    """The mean of ``values`` and its bootstrap interval."""
    draw = random.Random(seed)
    n = len(values)
    means = [sum(values[draw.randrange(n)] for _ in range(n)) / n for _ in range(RESAMPLES)]
    return Interval(mean(values), *_bounds(means))


def paired_difference(candidate: Sequence[float], baseline: Sequence[float], seed: int = 0) -> Interval:
    """Mean of ``candidate[i] - baseline[i]`` over the items, with its paired bootstrap interval."""
    if len(candidate) != len(baseline) or not candidate:
        raise ValueError("paired scores need the same items, at least one")
    differences = [c - b for c, b in zip(candidate, baseline, strict=True)]
    return mean_interval(differences, seed)


def relative_change(
    candidate: Sequence[float],
    baseline: Sequence[float],
    statistic: Callable[[list[float]], float | None],
    seed: int = 0,
) -> Interval | None:
    """``statistic(candidate) / statistic(baseline) - 1`` with an interval from resampling each
    side on its own; ``None`` when either side has no values or the baseline's statistic is 0."""
    if not candidate or not baseline:
        return None
    point_c, point_b = statistic(list(candidate)), statistic(list(baseline))
    if point_c is None or not point_b:
        return None
    draw = random.Random(seed)
    changes = []
    for _ in range(RESAMPLES):
        c = statistic([candidate[draw.randrange(len(candidate))] for _ in candidate])
        b = statistic([baseline[draw.randrange(len(baseline))] for _ in baseline])
        if c is not None and b:
            changes.append(c / b - 1)
    return Interval(point_c / point_b - 1, *_bounds(changes))


SHOWN, REFUTED, NOT_SIGNIFICANT = "shown", "refuted", "not significant"


def at_least(interval: Interval, threshold: float) -> str:
    """Is the difference at least ``threshold``?"""
    if interval.low >= threshold:
        return SHOWN
    if interval.high < threshold:
        return REFUTED
    return NOT_SIGNIFICANT


def more_than(interval: Interval, threshold: float) -> str:
    """Is the difference more than ``threshold``? (A regression beyond its bound.)"""
    if interval.low > threshold:
        return SHOWN
    if interval.high <= threshold:
        return REFUTED
    return NOT_SIGNIFICANT
