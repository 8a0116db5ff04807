"""Statistics behind every figure the report quotes, after Google Benchmark's compare.py
and nanobench: medians, 95% percentile-bootstrap intervals for ratios, log-log slopes
and correlations, and leave-one-out ranges.

Reproducible: every interval draws from its own generator, seeded from a label
(sha256), and uses only random.random(), whose sequence Python keeps stable, so the
same results give the same report on any Python 3.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Callable

RESAMPLES = 2000
LEVEL = 0.95
ITSELF = "itself"  # the note of a ratio of a run to itself


def median(values) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of nothing")
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def cv(values) -> float | None:
    """Sample standard deviation over the mean, as Google Benchmark's cv; None below 2 values."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    if mean == 0:
        return None
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return math.sqrt(variance) / abs(mean)


def pearson(xs, ys) -> float | None:
    if len(xs) < 3:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x <= 0 or var_y <= 0:
        return None
    return cov / math.sqrt(var_x * var_y)


def slope(xs, ys) -> float | None:
    """Least-squares slope of y on x; None without spread in x."""
    if len(xs) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / var_x


def log_fit(xs, ys) -> tuple[float | None, float | None]:
    """(slope, Pearson r) of log(y) on log(x): slope 1 means y grows in proportion to x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    return slope(lx, ly), pearson(lx, ly)


def generator(label: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "big"))


def draw_index(rng: random.Random, n: int) -> int:
    return min(n - 1, int(rng.random() * n))


def _normal(rng: random.Random) -> float:
    """A standard normal draw (Box-Muller) from random() alone."""
    u1 = 1.0 - rng.random()  # (0, 1]
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * rng.random())


class Sample:
    """A measured quantity: its point estimate (a median) and how to draw a bootstrap
    replicate of it. `spread` is False when nothing is known about its variation."""

    def __init__(self, point: float, n: int, spread: bool, draw: Callable[[random.Random], float], how: str):
        self.point, self.n, self.spread, self._draw, self.how = point, n, spread, draw, how

    def draw(self, rng: random.Random) -> float:
        return self._draw(rng)


def repetitions_sample(values) -> Sample:
    """The median of repetitions; a replicate resamples them with replacement."""
    values = list(values)
    point = median(values)
    if len(values) < 2:
        return Sample(point, len(values), False, lambda rng: point, "one repetition")

    def draw(rng):
        return median([values[draw_index(rng, len(values))] for _ in values])

    return Sample(point, len(values), True, draw, "resampled repetitions")


def summary_sample(point: float, mean: float | None, stddev: float | None, n: int) -> Sample:
    """Only a median, mean, standard deviation and count were recorded (Google Benchmark
    with aggregates only): a replicate draws n normal values with that mean and
    deviation, shifted to the median, and takes their median (parametric bootstrap)."""
    if mean is None or stddev is None or n < 2 or stddev <= 0:
        return Sample(point, n, False, lambda rng: point, "no spread recorded")

    def draw(rng):
        value = median([mean + stddev * _normal(rng) for _ in range(n)]) - mean + point
        return max(value, point * 1e-6)  # a rate or a time stays positive

    return Sample(point, n, True, draw, "parametric (mean, stddev)")


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95% interval; low/high are None when there is none
    (too few repetitions or no recorded spread)."""

    point: float
    low: float | None = None
    high: float | None = None
    note: str = ""  # why there is no interval

    @property
    def available(self) -> bool:
        return self.low is not None and self.high is not None

    def side(self, value: float = 1.0) -> int:
        """+1 when the whole interval is above value, -1 when below, 0 when it contains it
        or there is no interval."""
        if not self.available:
            return 0
        if self.low > value:
            return 1
        if self.high < value:
            return -1
        return 0

    def overlaps(self, other: "Interval") -> bool | None:
        if not (self.available and other.available):
            return None
        return self.low <= other.high and other.low <= self.high


def percentile(ordered, fraction: float) -> float:
    """Linear interpolation between the closest ranks of a sorted list."""
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def percentile_interval(point: float, replicates: list[float], wanted: int) -> Interval:
    if len(replicates) < wanted / 2:  # most replicates were degenerate
        return Interval(point, note="too few usable resamples")
    replicates.sort()
    tail = (1 - LEVEL) / 2
    return Interval(point, percentile(replicates, tail), percentile(replicates, 1 - tail))


def ratio_interval(label: str, numerator: Sample, denominator: Sample, resamples: int = RESAMPLES) -> Interval:
    """numerator.point / denominator.point and the percentile-bootstrap interval of that
    ratio; none when either side has no spread (one repetition)."""
    point = numerator.point / denominator.point
    if not (numerator.spread and denominator.spread):
        reason = numerator.how if not numerator.spread else denominator.how
        return Interval(point, note=reason)
    rng = generator(label)
    replicates = [numerator.draw(rng) / denominator.draw(rng) for _ in range(resamples)]
    return percentile_interval(point, replicates, resamples)


@dataclass(frozen=True)
class Fit:
    """Log-log slope and Pearson r over a set of named points, with intervals that
    resample the points (which policies) and, within each, its repetitions."""

    names: tuple
    slope: Interval | None
    r: Interval | None


def fit(label: str, names, xs: list[Sample], ys: list[Sample], resamples: int = RESAMPLES) -> Fit:
    names = tuple(names)
    point_slope, point_r = log_fit([x.point for x in xs], [y.point for y in ys])
    if point_slope is None:
        return Fit(names, None, None)
    rng = generator(label)
    slopes, rs = [], []
    n = len(xs)
    for _ in range(resamples):
        chosen = [draw_index(rng, n) for _ in range(n)]
        if len(set(chosen)) < 3:  # a fit needs three distinct policies
            continue
        sx = [xs[i].draw(rng) for i in chosen]
        sy = [ys[i].draw(rng) for i in chosen]
        s, r = log_fit(sx, sy)
        if s is not None:
            slopes.append(s)
        if r is not None:
            rs.append(r)
    slope_interval = percentile_interval(point_slope, slopes, resamples) if n >= 3 else Interval(point_slope, note="two points")
    r_interval = None if point_r is None else percentile_interval(point_r, rs, resamples)
    return Fit(names, slope_interval, r_interval)


def leave_one_out(names, xs: list[float], ys: list[float]) -> dict:
    """name -> (slope, r) of the log-log fit without that point."""
    result = {}
    for index, name in enumerate(names):
        rest_x = [x for i, x in enumerate(xs) if i != index]
        rest_y = [y for i, y in enumerate(ys) if i != index]
        result[name] = log_fit(rest_x, rest_y) if len(rest_x) >= 2 else (None, None)
    return result
