"""The figures the report quotes, each with its interval: speed vs the baseline, the
allocation share, and how allocation throughput relates to training speed (log-log
slope and correlation, with and without the reference-counted policy, and what
removing any one policy does to them)."""

from __future__ import annotations

from dataclasses import dataclass

from . import stats
from .gbench import rate_sample
from .model import Machine, Roles, TrainRun
from .stats import Fit, Interval, Sample

# Verdict thresholds on the allocation share of the baseline's step time.
BOTTLENECK_SHARE = 0.5
MAJOR_COST_SHARE = 0.2
# "Throughput explains speed" needs both: ranks agree (Pearson r on logs) and the
# log-log slope is at least half of proportional.
RANKING_AGREES_R = 0.7
PROPORTIONAL_SLOPE = 0.5
PREFERRED_RATE_FAMILY = "chain"  # microgpt.ts's microbenchmark
PREFERRED_RATE_SOURCE = "bench_alloc"


def time_sample(run: TrainRun) -> Sample:
    """Seconds per step: the recorded median, redrawn from the repetitions."""
    base = stats.repetitions_sample(run.seconds_per_step)
    return Sample(run.median_s / run.steps, base.n, base.spread, base.draw, base.how)


def speed_sample(run: TrainRun) -> Sample:
    """Steps per second: the recorded median, redrawn from the repetitions."""
    base = stats.repetitions_sample([1 / t for t in run.seconds_per_step])
    return Sample(run.steps_per_second, base.n, base.spread, base.draw, base.how)


def speed_ratio(label: str, run: TrainRun, baseline: TrainRun) -> Interval:
    """How many times as fast as the baseline run (per step; above 1 = faster)."""
    return stats.ratio_interval(label, time_sample(baseline), time_sample(run))


# ---- allocation share ------------------------------------------------------


def share_from(phases: dict, steps: int, reference: dict, reference_steps: int) -> float | None:
    total = sum(phases.values()) / steps
    if total <= 0:
        return None
    extra = sum(phases[p] / steps - reference[p] / reference_steps for p in ("forward", "release"))
    return min(1.0, max(0.0, extra / total))


def alloc_share(run: TrainRun, reference: TrainRun) -> float | None:
    """Share of `run`'s step time spent allocating and releasing, measured against the
    no-alloc reference: the extra forward and release time over the reference's,
    divided by run's total phase time, clamped to [0, 1]. Per step, so runs of
    different lengths compare. Median repetitions."""
    if run.phases is None or reference.phases is None:
        return None
    return share_from(run.phases, run.steps, reference.phases, reference.steps)


def _median_repetition(reps):
    ordered = sorted(reps, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def share_interval(label: str, run: TrainRun, reference: TrainRun) -> Interval | None:
    """alloc_share and its interval: each replicate resamples both runs' repetitions
    and takes each resample's median repetition, as bench_train does."""
    point = alloc_share(run, reference)
    if point is None:
        return None
    own = [r for r in run.reps if r.phases]
    theirs = [r for r in reference.reps if r.phases]
    if len(own) < 2 or len(theirs) < 2 or run is reference:
        return Interval(point, note="one repetition" if run is not reference else "the reference itself")
    rng = stats.generator(label)
    replicates = []
    for _ in range(stats.RESAMPLES):
        a = _median_repetition([own[stats.draw_index(rng, len(own))] for _ in own])
        b = _median_repetition([theirs[stats.draw_index(rng, len(theirs))] for _ in theirs])
        value = share_from(a.phases, a.steps, b.phases, b.steps)
        if value is not None:
            replicates.append(value)
    return stats.percentile_interval(point, replicates, stats.RESAMPLES)


def series_shares(machine: Machine, topo: str, roles: Roles) -> dict | None:
    """policy -> share interval for one series, or None without the reference's phases."""
    runs = machine.series.get(topo, {})
    reference = runs.get(roles.no_alloc_reference) if roles.no_alloc_reference else None
    if reference is None or reference.phases is None:
        return None
    shares = {}
    for policy, run in runs.items():
        found = share_interval(f"{machine.name}|share|{topo}|{policy}", run, reference)
        if found is not None:
            shares[policy] = found
    return shares


def share_verdict(share: Interval) -> str:
    """Words for the baseline's share; a threshold inside the interval is said so."""
    low = share.low if share.available else share.point
    high = share.high if share.available else share.point
    if low >= BOTTLENECK_SHARE:
        return "is the bottleneck"
    if high >= BOTTLENECK_SHARE:
        return "is about half of the step (its interval spans the 50% line), the bottleneck or close to it"
    if low >= MAJOR_COST_SHARE:
        return "is a large cost but not the bottleneck"
    if high >= MAJOR_COST_SHARE:
        return "is a moderate cost (its interval spans the 20% line)"
    return "is not the bottleneck"


# ---- throughput vs training speed -----------------------------------------


@dataclass
class Point:
    policy: str
    rate: Sample
    speed: Sample
    rate_noisy: bool
    speed_noisy: bool


@dataclass
class Throughput:
    family: str
    source: str
    counter: str
    points: list  # Point, controls left out
    controls: tuple  # left out of the fits
    everyone: Fit
    robust: Fit  # without the reference-counted policies (everyone when none is known)
    without: tuple  # the policies the robust fit leaves out
    roles_known: bool
    loo: dict  # policy -> (slope, r) of the robust set without it

    def point(self, policy: str) -> Point | None:
        return next((p for p in self.points if p.policy == policy), None)


def rate_family(machine: Machine) -> tuple | None:
    """(source, family) to compare with training: bench_alloc's chain if present."""
    candidates: dict = {}
    for point in machine.rate_points:
        if point.rate is not None and point.rate > 0:
            candidates.setdefault((point.source, point.family), set()).add(point.policy)
    if not candidates:
        return None

    def preference(key):
        source, family = key
        return (family != PREFERRED_RATE_FAMILY, source != PREFERRED_RATE_SOURCE, -len(candidates[key]), key)

    return min(candidates, key=preference)


def chosen_rate_points(machine: Machine) -> tuple:
    """(source, family, counter, policy -> RatePoint); the median instance when a
    policy has several."""
    chosen = rate_family(machine)
    if chosen is None:
        return None
    by_policy: dict = {}
    for point in machine.rate_points:
        if (point.source, point.family) == chosen and point.rate and point.rate > 0:
            by_policy.setdefault(point.policy, []).append(point)
    picked = {p: sorted(points, key=lambda q: q.rate)[(len(points) - 1) // 2] for p, points in by_policy.items()}
    counter = next((p.rate_counter for p in picked.values() if p.rate_counter), "")
    return chosen[0], chosen[1], counter, picked


def throughput(machine: Machine, roles: Roles, order) -> Throughput | None:
    found = chosen_rate_points(machine)
    if found is None:
        return None
    source, family, counter, picked = found
    points, controls = [], []
    for policy in order(picked):
        run = machine.policies.get(policy)
        if run is None:
            continue
        if policy in roles.controls:
            controls.append(policy)
            continue
        rate_point = picked[policy]
        points.append(Point(policy, rate_sample(rate_point), speed_sample(run), rate_point.noisy, run.noisy))
    if not points:
        return None
    label = f"{machine.name}|fit|{source}|{family}"
    everyone = fit_points(label + "|all", points)
    without = tuple(p.policy for p in points if p.policy in roles.reference_counted)
    robust_points = [p for p in points if p.policy not in without]
    robust = fit_points(label + "|robust", robust_points) if without else everyone
    loo = stats.leave_one_out([p.policy for p in robust_points], [p.rate.point for p in robust_points],
                              [p.speed.point for p in robust_points])
    return Throughput(family, source, counter or "", points, tuple(controls), everyone, robust, without,
                      roles.known, loo)


def fit_points(label: str, points: list) -> Fit:
    return stats.fit(label, [p.policy for p in points], [p.rate for p in points], [p.speed for p in points])


EXPLAINS = "allocation throughput largely explains training speed"
LESS_THAN_PROPORTIONAL = ("faster allocators do train faster, but far less than in proportion, so allocation "
                          "throughput does not explain training speed")
DOES_NOT = "allocation throughput does not explain training speed"
CANNOT_TELL = "too few policies to tell"
SHORT = {EXPLAINS: "largely explains", LESS_THAN_PROPORTIONAL: "less than in proportion", DOES_NOT: "does not explain",
         CANNOT_TELL: CANNOT_TELL}  # the verdicts in a table cell


def explains(slope: float | None, r: float | None) -> str:
    if slope is None or r is None:
        return CANNOT_TELL
    if r >= RANKING_AGREES_R and slope >= PROPORTIONAL_SLOPE:
        return EXPLAINS
    if r >= RANKING_AGREES_R:
        return LESS_THAN_PROPORTIONAL
    return DOES_NOT


@dataclass
class Verdict:
    words: str  # one of the verdicts above, from the robust figure's point estimates
    survives: bool  # every leave-one-out fit gives the same words
    flips: list  # (policy, slope, r, words) of removals that change the words
    slope_range: tuple | None  # (min, max) over the leave-one-out fits
    r_range: tuple | None
    slope_spans_threshold: bool  # the slope's interval contains PROPORTIONAL_SLOPE
    r_spans_threshold: bool


def verdict(found: Throughput) -> Verdict:
    fit = found.robust
    words = explains(fit.slope.point if fit.slope else None, fit.r.point if fit.r else None)
    flips = [(policy, s, r, explains(s, r)) for policy, (s, r) in found.loo.items() if explains(s, r) != words]
    slopes = [s for s, _ in found.loo.values() if s is not None]
    rs = [r for _, r in found.loo.values() if r is not None]

    def spans(interval: Interval | None, threshold: float) -> bool:
        return bool(interval and interval.available and interval.low < threshold <= interval.high)

    return Verdict(words, not flips and bool(found.loo), flips,
                   (min(slopes), max(slopes)) if slopes else None, (min(rs), max(rs)) if rs else None,
                   spans(fit.slope, PROPORTIONAL_SLOPE), spans(fit.r, RANKING_AGREES_R))


def rate_ratio(machine: Machine, found: Throughput, policy: str, baseline: str) -> Interval | None:
    a, b = found.point(policy), found.point(baseline)
    if a is None or b is None:
        return None
    if policy == baseline:
        return Interval(1.0, note=stats.ITSELF)
    return stats.ratio_interval(f"{machine.name}|rate|{found.source}|{found.family}|{policy}", a.rate, b.rate)


def speed_label(machine: Machine, topo: str, policy: str) -> str:
    return f"{machine.name}|speed|{topo}|{policy}"


def series_speed_ratio(machine: Machine, topo: str, policy: str, baseline: str | None) -> Interval | None:
    """speed_ratio of one policy of a series against the series' baseline run."""
    runs = machine.series.get(topo, {})
    if baseline is None or policy not in runs or baseline not in runs:
        return None
    if policy == baseline:
        return Interval(1.0, note=stats.ITSELF)
    return speed_ratio(speed_label(machine, topo, policy), runs[policy], runs[baseline])
