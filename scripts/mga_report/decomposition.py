"""Where a policy's extra time goes: its time per node over the no-alloc reference's,
split into the allocator's work, the layout of its nodes, and the rest.

The model. Over the reference, a run's extra wall time per graph node is taken to be
    dt = c_I * dI + c_M * dM
with dI its extra instructions per node and dM its extra data-cache misses per node
(callgrind's cache simulation, scripts/cachesim.py), c_I and c_M the machine's price
of an instruction and of a miss. The scattered control runs (almost) the reference's
instructions with a fragmented heap's misses, so it prices a miss: it is reproduced
exactly, c_M = (dt_S - c_I dI_S) / dM_S. The price of an instruction is then the one
that fits the allocation strategies best (least squares on their extra times relative
to their times; the reference-counted policy is left out, its atomic reference counts
are dearer instructions). The compact control, which changes both counts and takes no
part in the fit, is predicted as a check. For a policy p:
    allocator = c_I * (instructions inside the allocator's functions) + c_M * (their misses)
    layout    = c_M * (misses outside the allocator): where its nodes land
    other     = dt_p - allocator - layout
"other" is p's extra instructions outside the allocator (bookkeeping, reference counts)
and what the model leaves out (atomics, branch mispredictions, the real cache levels).

dM is counted at one simulated level at a time, L1 or the last level; the figures are
the mean of the two decompositions, and each interval spans both and a bootstrap that
redraws every run's wall-time repetitions and the strategies the fit uses.

Nothing here names a policy: roles come from the traits recorded with each run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import stats
from .analysis import share_interval
from .cachesim import CacheRun, CacheSeries
from .model import DEFAULT_SHAPE, Machine
from .stats import Interval

LEVELS = ("d1", "ll")
LEVEL_WORDS = {"d1": "L1 data misses", "ll": "last-level data misses"}
PARTS = ("allocator", "layout", "other")
KEYS = (*PARTS, "other_instructions", "residual")
RESAMPLES = 1000
EXPLAINED_POINTS = 0.05  # a model share this close to the measured one (or intervals overlapping) explains it
MAX_MISFIT = 0.25  # a fit whose residuals' root mean square exceeds this share of the times is not used


def misses(counts, level: str) -> float:
    return counts.d1_misses if level == "d1" else counts.ll_misses


@dataclass(frozen=True)
class Prices:
    level: str
    per_instruction: float  # ns
    per_miss: float  # ns

    def time(self, counts) -> float:
        return self.per_instruction * counts.instructions + self.per_miss * misses(counts, self.level)


def fit_prices(level: str, cache: dict, times: dict, ref: str, scattered: str, fitted: list) -> Prices | None:
    """c_M from the scattered control given c_I, c_I by weighted least squares over
    `fitted`; None without a positive solution."""
    base, control = cache[ref].total, cache[scattered].total
    d_control = control.minus(base)
    dt_control = times[scattered] - times[ref]
    dm_control = misses(d_control, level)
    if dm_control <= 0:
        return None
    numerator = denominator = 0.0
    for name in fitted:
        d = cache[name].total.minus(base)
        weight = 1 / times[name] ** 2  # each policy's misfit relative to its own time
        x = d.instructions - d_control.instructions * misses(d, level) / dm_control
        y = times[name] - times[ref] - dt_control * misses(d, level) / dm_control
        numerator += weight * x * y
        denominator += weight * x * x
    if denominator <= 0:
        return None
    per_instruction = numerator / denominator
    per_miss = (dt_control - per_instruction * d_control.instructions) / dm_control
    if per_instruction <= 0 or per_miss <= 0:
        return None
    return Prices(level, per_instruction, per_miss)


def split(prices: Prices, run: CacheRun, ref: CacheRun, extra_ns: float) -> dict:
    """KEYS (ns per node): allocator, layout, other, other's instructions, residual."""
    allocator = run.allocator.minus(ref.allocator)
    outside = run.total.minus(run.allocator).minus(ref.total.minus(ref.allocator))
    parts = {"allocator": prices.time(allocator), "layout": prices.per_miss * misses(outside, prices.level)}
    parts["other"] = extra_ns - parts["allocator"] - parts["layout"]
    parts["other_instructions"] = prices.per_instruction * outside.instructions
    parts["residual"] = parts["other"] - parts["other_instructions"]  # what the model does not explain
    return parts


def forward_release(run: CacheRun):
    return run.phases["forward"].plus(run.phases["release"])


def forward_release_parts(prices: Prices, run: CacheRun, ref: CacheRun) -> dict:
    """The model's extra forward + release time (ns per node). The allocator's counts
    are not split by phase; it runs in forward (making nodes) and release (freeing
    them), so all of them are counted here."""
    extra = forward_release(run).minus(forward_release(ref))
    allocator = run.allocator.minus(ref.allocator)
    return {"allocator_instructions": prices.per_instruction * allocator.instructions,
            "other_instructions": prices.per_instruction * (extra.instructions - allocator.instructions),
            "misses": prices.per_miss * misses(extra, prices.level)}


@dataclass
class Row:
    """One policy's decomposition (ns per node) with intervals, and its shares."""

    policy: str
    time_ns: float
    extra: Interval  # t_p - t_ref
    parts: dict  # KEYS -> Interval
    instruction_share: float  # allocator instructions / all instructions (callgrind)
    phase_share: Interval | None  # (forward + release over the reference's) / total, measured
    model_phase_share: Interval | None  # the same from the counts
    phase_parts: dict  # forward_release_parts, mean over the levels

    def percent(self, part: str) -> float | None:
        return None if self.extra.point <= 0 else self.parts[part].point / self.extra.point

    @property
    def explains_phase_share(self) -> bool | None:
        if self.phase_share is None or self.model_phase_share is None:
            return None
        if abs(self.phase_share.point - self.model_phase_share.point) <= EXPLAINED_POINTS:
            return True
        return bool(self.phase_share.overlaps(self.model_phase_share))


@dataclass
class Case:
    """One shape and backward order with both cache counts and wall times."""

    shape: tuple
    topo: str
    series: CacheSeries
    reference: str | None = None
    scattered: str | None = None
    compact: str | None = None
    fitted: list = field(default_factory=list)  # the strategies c_I is fitted to
    prices: dict = field(default_factory=dict)  # level -> Prices
    misfit: float | None = None  # root mean square of the fitted strategies' residuals over their times
    rows: list = field(default_factory=list)  # strategies
    controls: list = field(default_factory=list)
    compact_check: dict = field(default_factory=dict)  # level -> (predicted ns, measured ns)
    problem: str = ""  # why there is no decomposition


def roles_of(series: CacheSeries) -> dict:
    def single(trait: str):
        names = [n for n, r in series.runs.items() if r.traits is not None and getattr(r.traits, trait)]
        return names[0] if len(names) == 1 else None

    return {trait: single(trait) for trait in ("no_alloc_reference", "scattered", "compact")}


def wall_runs(machine: Machine, shape: tuple, topo: str) -> dict:
    if shape == DEFAULT_SHAPE:
        return machine.series.get(topo, {})
    return machine.size_runs.get((shape, topo), {})


def decompose(machine: Machine, series: CacheSeries) -> Case:
    case = Case(series.shape, series.topo, series)
    roles = roles_of(series)
    case.reference, case.scattered, case.compact = roles["no_alloc_reference"], roles["scattered"], roles["compact"]
    walls = {n: r for n, r in wall_runs(machine, series.shape, series.topo).items()
             if n in series.runs and r.nodes_per_step}
    if case.reference is None or case.scattered is None:
        case.problem = "the cache file has no run marked no_alloc_reference or no scattered control"
        return case
    if case.reference not in walls or case.scattered not in walls:
        case.problem = "no wall-time runs of the reference and the scattered control for this shape and order"
        return case
    cache = series.runs
    controls = {n for n in walls if cache[n].traits is not None and cache[n].traits.control}
    case.fitted = [n for n in walls if n not in controls and n != case.reference
                   and not (cache[n].traits is not None and cache[n].traits.reference_counted)]
    times = {n: r.ns_per_node for n, r in walls.items()}
    ref = cache[case.reference]
    names = [n for n in walls if n != case.reference]
    misfits = {}
    for level in LEVELS:
        prices = fit_prices(level, cache, times, case.reference, case.scattered, case.fitted)
        if prices is None:
            continue
        misfits[level] = misfit(prices, cache, times, case)
        if misfits[level] <= MAX_MISFIT:
            case.prices[level] = prices
    if not case.prices:
        case.problem = (no_prices_reason(cache, times, case) if not misfits else
                        "the model does not fit: the best prices leave residuals of "
                        + " and ".join(f"{100 * m:.0f}% ({LEVEL_WORDS[level]})" for level, m in misfits.items())
                        + f" of the strategies' times (the limit is {100 * MAX_MISFIT:.0f}%); "
                        + no_prices_reason(cache, times, case, misfit_only=True))
        return case
    points = {n: {level: split(p, cache[n], ref, times[n] - times[case.reference]) for level, p in case.prices.items()}
              for n in names}
    replicates = bootstrap(machine, case, walls, names)
    for name in names:
        row = make_row(case, name, walls, points[name], replicates[name])
        (case.controls if name in controls else case.rows).append(row)
    case.misfit = max(misfits[level] for level in case.prices)
    if case.compact in walls:
        for level, prices in case.prices.items():
            case.compact_check[level] = (times[case.reference] + prices.time(cache[case.compact].total.minus(ref.total)),
                                         times[case.compact])
    return case


def misfit(prices: Prices, cache: dict, times: dict, case: Case) -> float:
    """Root mean square of the fitted strategies' residuals over their times."""
    ref = cache[case.reference]
    residuals = [split(prices, cache[n], ref, times[n] - times[case.reference])["residual"] / times[n]
                 for n in case.fitted]
    return (sum(r * r for r in residuals) / len(residuals)) ** 0.5 if residuals else 0.0


def no_prices_reason(cache: dict, times: dict, case: Case, misfit_only: bool = False) -> str:
    """Why no positive prices fit: typically the scattered control's misses (random over
    the whole step's memory) cost more each than the strategies' extra time allows."""
    text = "" if misfit_only else (f"no positive price per instruction and per miss fits the scattered control "
                                   f"and the {len(case.fitted)} strategies with wall times; ")
    base = cache[case.reference].total
    d_control = cache[case.scattered].total.minus(base)
    dt_control = times[case.scattered] - times[case.reference]
    prices, over = [], set()
    for level in LEVELS:
        if misses(d_control, level) > 0 and dt_control > 0:
            price = dt_control / misses(d_control, level)
            prices.append(f"{price:.1f} ns ({'L1' if level == 'd1' else 'last level'})")
            over |= {n for n in case.fitted
                     if price * misses(cache[n].total.minus(base), level) > times[n] - times[case.reference]}
    if prices and over:
        text += (f"the scattered control's misses cost up to {' or '.join(prices)} each, and at that price the "
                 f"extra misses alone of {len(over)} of the {len(case.fitted)} strategies would cost more than their "
                 "whole extra time: their misses are cheaper than the control's (prefetched, not random), so one "
                 "price per miss does not hold here")
    return text.rstrip("; ")


def bootstrap(machine: Machine, case: Case, walls: dict, names: list) -> dict:
    """name -> key -> replicates: every run's times redrawn from its repetitions, the
    fitted strategies redrawn with replacement, both levels."""
    replicates = {n: {key: [] for key in (*KEYS, "extra", "model_share")} for n in names}
    samples = {n: stats.repetitions_sample(r.seconds_per_step) for n, r in walls.items()}
    if not all(s.spread for s in samples.values()):
        return replicates
    rng = stats.generator(f"{machine.name}|decomposition|{case.shape}|{case.topo}")
    cache, ref = case.series.runs, case.series.runs[case.reference]
    for _ in range(RESAMPLES):
        times = {n: 1e9 * samples[n].draw(rng) / walls[n].nodes_per_step for n in walls}
        fitted = [case.fitted[stats.draw_index(rng, len(case.fitted))] for _ in case.fitted]
        for name in names:
            replicates[name]["extra"].append(times[name] - times[case.reference])
        for level in case.prices:
            prices = fit_prices(level, cache, times, case.reference, case.scattered, fitted)
            if prices is None:
                continue
            for name in names:
                for key, value in split(prices, cache[name], ref, times[name] - times[case.reference]).items():
                    replicates[name][key].append(value)
                share = model_phase_share(prices, cache[name], ref, walls[name])
                if share is not None:
                    replicates[name]["model_share"].append(share)
    return replicates


def model_phase_share(prices: Prices, run: CacheRun, ref: CacheRun, wall) -> float | None:
    """The model's extra forward + release time over the run's measured total."""
    if wall.phases is None:
        return None
    total_ns = 1e9 * sum(wall.phases.values()) / wall.steps / wall.nodes_per_step
    return sum(forward_release_parts(prices, run, ref).values()) / total_ns


def interval(point: float, at_levels: list, values: list) -> Interval:
    """The bootstrap's 95% interval, widened to hold every level's point."""
    if not values:
        if len(at_levels) > 1:
            return Interval(point, min(at_levels), max(at_levels))
        return Interval(point, note="one repetition")
    found = stats.percentile_interval(point, values, RESAMPLES * len(LEVELS))
    if not found.available:
        return found
    return Interval(point, min([found.low, *at_levels]), max([found.high, *at_levels]))


def make_row(case: Case, name: str, walls: dict, by_level: dict, replicates: dict) -> Row:
    cache, ref = case.series.runs[name], case.series.runs[case.reference]
    wall, wall_ref = walls[name], walls[case.reference]
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    parts = {key: interval(mean([v[key] for v in by_level.values()]), [v[key] for v in by_level.values()],
                           replicates[key]) for key in KEYS}
    extra_ns = wall.ns_per_node - wall_ref.ns_per_node
    extra = stats.percentile_interval(extra_ns, replicates["extra"], RESAMPLES) if replicates["extra"] else \
        Interval(extra_ns, note="one repetition")
    shares = [s for s in (model_phase_share(p, cache, ref, wall) for p in case.prices.values()) if s is not None]
    model_share = interval(mean(shares), shares, replicates["model_share"]) if shares else None
    phase_parts = [forward_release_parts(p, cache, ref) for p in case.prices.values()]
    total = cache.total.instructions
    return Row(policy=name, time_ns=wall.ns_per_node, extra=extra, parts=parts,
               instruction_share=cache.allocator.instructions / total if total > 0 else 0.0,
               phase_share=share_interval(f"{name}|decomposition-share|{case.shape}|{case.topo}", wall, wall_ref),
               model_phase_share=model_share,
               phase_parts={key: mean([p[key] for p in phase_parts]) for key in phase_parts[0]})


def cases(machine: Machine) -> list[Case]:
    """Every cache file of the machine: the default shape first, then by size, then order."""
    ordered = sorted(machine.cachesim.values(),
                     key=lambda s: (s.shape != DEFAULT_SHAPE, s.shape[0] * s.shape[0] * s.shape[2], s.topo))
    return [decompose(machine, series) for series in ordered]
