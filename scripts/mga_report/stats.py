"""Statistics behind every figure the report quotes, after Google Benchmark's compare.py
and nanobench: medians, and 95% percentile-bootstrap intervals for medians, ratios and
log-log slopes; the Mann-Whitney U test for two sets of repetitions.

Reproducible: every interval draws from its own generator, seeded from a label
(sha256), and uses only random.random(), whose sequence Python keeps stable, so the
same results give the same report on any Python 3.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
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


def slope(xs, ys) -> float | None:
    """Least-squares slope of y on x; None without spread in x."""
    if len(xs) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / var_x


def log_slope(xs, ys) -> float | None:
    """Slope of log(y) on log(x): 1 means y grows in proportion to x."""
    return slope([math.log(x) for x in xs], [math.log(y) for y in ys])


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

    def map(self, function) -> "Interval":
        """An increasing function of the value, applied to the point and both ends."""
        if not self.available:
            return Interval(function(self.point), note=self.note)
        return Interval(function(self.point), function(self.low), function(self.high))

    @property
    def wide(self) -> bool:
        """The high end more than twice the low one (for positive values)."""
        return self.available and self.low > 0 and self.high > 2 * self.low

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


def value_interval(label: str, sample: Sample, resamples: int = RESAMPLES) -> Interval:
    """The sample's point and the percentile-bootstrap interval of it (e.g. of a median time)."""
    if not sample.spread:
        return Interval(sample.point, note=sample.how)
    rng = generator(label)
    return percentile_interval(sample.point, [sample.draw(rng) for _ in range(resamples)], resamples)


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


def fit(label: str, xs: list, ys: list, resamples: int = RESAMPLES) -> Interval | None:
    """The log-log slope of ys on xs (Samples) with an interval that resamples the points
    (which policies) and, within each, its repetitions; None without spread in x."""
    point = log_slope([x.point for x in xs], [y.point for y in ys])
    if point is None:
        return None
    if len(xs) < 3:
        return Interval(point, note="two points")
    rng = generator(label)
    slopes = []
    for _ in range(resamples):
        chosen = [draw_index(rng, len(xs)) for _ in xs]
        if len(set(chosen)) >= 3:  # a slope needs three distinct policies
            found = log_slope([xs[i].draw(rng) for i in chosen], [ys[i].draw(rng) for i in chosen])
            if found is not None:
                slopes.append(found)
    return percentile_interval(point, slopes, resamples)


# ---- the Mann-Whitney U test ----------------------------------------------------------------

EXACT_LIMIT = 50  # samples up to this size without ties get the exact distribution of U


@dataclass(frozen=True)
class UTest:
    u: float  # pairs (a, b) with a > b, a tie counting one half
    p: float  # two-sided
    method: str  # "exact" or "normal"


def u_counts(m: int, n: int) -> list:
    """How many of the C(m + n, m) orderings of m + n distinct values give U = 0, 1, ..., m n. The
    largest value is the first sample's (it wins n pairs) or the second's, so the generating
    polynomials obey P(m, n) = q^n P(m - 1, n) + P(m, n - 1), with P(0, n) = P(m, 0) = 1."""
    row = [[1] for _ in range(n + 1)]  # P(0, j)
    for i in range(1, m + 1):
        new = [[1]]
        for j in range(1, n + 1):
            polynomial = [0] * j + row[j]
            for k, count in enumerate(new[j - 1]):
                polynomial[k] += count
            new.append(polynomial)
        row = new
    return row[n]


def smallest_p(m: int, n: int) -> float:
    """The smallest two-sided p the exact test can give (0.0079 for 5 against 5)."""
    return min(1.0, 2 / math.comb(m + n, m))


def normal_p(u: float, m: int, n: int, tie_sizes) -> float:
    """Normal approximation with the tie correction of the variance and a continuity correction."""
    total = m + n
    variance = m * n / 12 * (total + 1 - sum(t ** 3 - t for t in tie_sizes) / (total * (total - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u - m * n / 2) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def mann_whitney(a, b) -> UTest:
    """Two-sided Mann-Whitney U test of a against b: exact without ties when both have at most
    EXACT_LIMIT values, else the normal approximation."""
    m, n = len(a), len(b)
    if not m or not n:
        raise ValueError("a Mann-Whitney test needs values on both sides")
    u = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
    tie_sizes = [size for size in Counter([*a, *b]).values() if size > 1]
    if tie_sizes or max(m, n) > EXACT_LIMIT:
        return UTest(u, normal_p(u, m, n, tie_sizes), "normal")
    tail = sum(u_counts(m, n)[:int(min(u, m * n - u)) + 1])
    return UTest(u, min(1.0, 2 * tail / math.comb(m + n, m)), "exact")
