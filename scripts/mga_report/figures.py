"""Every figure of one machine, each with its 95% bootstrap interval, computed once: speed
against the baseline, the allocation share and its Amdahl bound, phase ratios, how
training speed follows allocation speed (the elasticity), the policy x malloc matrix and
what it says in practice, the no-node ceiling, the thread axis and the runtimes' pairs."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import stats
from .model import (DEFAULT_MALLOC, EXACT_TAPE, FAST_TAPE, Machine, Results, Roles, TrainRun, machine_roles,
                    topo_order)
from .stats import Interval, Sample

PREFERRED_RATES = ("bench_alloc", "chain")  # microgpt.ts's microbenchmark, in bench_alloc
GRAPH_TOPO = "creation"  # the node graph's fastest bit-exact order, which the exact tape is held against
ALLOCATING_PHASES = ("forward", "release")  # where nodes are made and freed


def time_sample(run: TrainRun) -> Sample:
    """Seconds per step: the recorded median, redrawn from the repetitions."""
    base = stats.repetitions_sample(run.seconds_per_step)
    return Sample(run.median_s / run.steps, base.n, base.spread, base.draw, base.how)


def phase_sample(run: TrainRun, phase: str) -> Sample | None:
    """Seconds per step in one phase: the median repetition's, redrawn from the repetitions."""
    if run.phases is None:
        return None
    base = stats.repetitions_sample([r.phases[phase] / r.steps for r in run.reps if r.phases] or [0.0])
    return Sample(run.phases[phase] / run.steps, base.n, base.spread, base.draw, base.how)


def speed_ratio(label: str, run: TrainRun | None, other: TrainRun | None) -> Interval | None:
    """How many times as fast as `other` `run` is, per step (above 1 = faster)."""
    if run is None or other is None:
        return None
    if run is other:
        return Interval(1.0, note=stats.ITSELF)
    return stats.ratio_interval(label, time_sample(other), time_sample(run))


def phase_ratio(label: str, run: TrainRun, other: TrainRun, phase: str) -> Interval | None:
    """How many times as fast as `other`'s the phase of `run` is."""
    a, b = phase_sample(run, phase), phase_sample(other, phase)
    return None if a is None or b is None or a.point <= 0 else stats.ratio_interval(label, b, a)


# ---- the allocation share -----------------------------------------------------------------


def share_from(phases: dict, steps: int, reference: dict, reference_steps: int) -> float | None:
    """The extra forward and release time over the no-alloc reference's, per step, over the
    run's whole step time, clamped to [0, 1]."""
    total = sum(phases.values()) / steps
    extra = sum(phases[p] / steps - reference[p] / reference_steps for p in ALLOCATING_PHASES)
    return min(1.0, max(0.0, extra / total)) if total > 0 else None


def median_repetition(reps):
    ordered = sorted(reps, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def share_interval(label: str, run: TrainRun, reference: TrainRun) -> Interval | None:
    """The share of the median repetitions; each replicate resamples both runs' repetitions
    and takes each resample's median repetition, as bench_train does."""
    if run.phases is None or reference.phases is None:
        return None
    point = share_from(run.phases, run.steps, reference.phases, reference.steps)
    own, theirs = [r for r in run.reps if r.phases], [r for r in reference.reps if r.phases]
    if run is reference or len(own) < 2 or len(theirs) < 2 or point is None:
        return Interval(point or 0.0, note="the reference itself" if run is reference else "one repetition")
    rng, replicates = stats.generator(label), []
    for _ in range(stats.RESAMPLES):
        a = median_repetition([own[stats.draw_index(rng, len(own))] for _ in own])
        b = median_repetition([theirs[stats.draw_index(rng, len(theirs))] for _ in theirs])
        value = share_from(a.phases, a.steps, b.phases, b.steps)
        if value is not None:
            replicates.append(value)
    return stats.percentile_interval(point, replicates, stats.RESAMPLES)


def amdahl(share: Interval) -> Interval:
    """The speed-up if the share took no time: 1 / (1 - share)."""
    return share.map(lambda s: 1 / (1 - s) if s < 1 else float("inf"))


# ---- allocation rate against training speed -----------------------------------------------


@dataclass
class Point:
    policy: str
    rate: Sample
    speed: Sample
    noisy: bool


@dataclass
class Throughput:
    source: str
    family: str
    points: list  # Point of every policy but the controls
    elasticity: Interval | None  # log-log slope of training speed on allocation rate, robust set
    elasticity_all: Interval | None  # with the reference-counted policies
    left_out: list  # the reference-counted policies
    controls: list

    def point(self, policy: str) -> Point | None:
        return next((p for p in self.points if p.policy == policy), None)


def speed_sample(run: TrainRun) -> Sample:
    """Steps per second: the recorded median, redrawn from the repetitions."""
    base = stats.repetitions_sample([1 / t for t in run.seconds_per_step])
    return Sample(run.steps / run.median_s, base.n, base.spread, base.draw, base.how)


def rate_sample(point) -> Sample:
    if len(point.samples) >= 2:
        base = stats.repetitions_sample(point.samples)
        return Sample(point.rate, base.n, True, base.draw, base.how)
    return stats.summary_sample(point.rate, point.mean, point.stddev, point.repetitions)


def throughput(machine: Machine, roles: Roles, order) -> Throughput | None:
    candidates = {}
    for point in machine.rate_points:
        if point.rate and point.policy in machine.policies:
            candidates.setdefault((point.source, point.family), {}).setdefault(point.policy, []).append(point)
    if not candidates:
        return None
    chosen = min(candidates, key=lambda k: (k != PREFERRED_RATES, k[1] != PREFERRED_RATES[1], -len(candidates[k]), k))
    picked = {p: sorted(found, key=lambda q: q.rate)[(len(found) - 1) // 2] for p, found in candidates[chosen].items()}
    controls = [p for p in order(picked) if roles.has(p, "control")]
    points = [Point(p, rate_sample(picked[p]), speed_sample(machine.policies[p]), picked[p].noisy or
                    machine.policies[p].noisy) for p in order(picked) if p not in controls]
    left_out = [p.policy for p in points if roles.has(p.policy, "reference_counted")]
    robust = [p for p in points if p.policy not in left_out]
    label = f"{machine.name}|fit|{chosen[0]}|{chosen[1]}"

    def slope(which: list, suffix: str) -> Interval | None:
        return stats.fit(label + suffix, [p.rate for p in which], [p.speed for p in which])

    return Throughput(chosen[0], chosen[1], points, slope(robust, "|robust" if left_out else "|all"),
                      slope(points, "|all") if left_out else None, left_out, controls)


def rate_ratio(machine: Machine, found: Throughput, policy: str, base: str | None) -> Interval | None:
    """How many times the baseline's allocation rate the policy's is."""
    a, b = found.point(policy), found.point(base)
    if a is None or b is None:
        return None
    if a is b:
        return Interval(1.0, note=stats.ITSELF)
    return stats.ratio_interval(f"{machine.name}|rate|{found.source}|{found.family}|{policy}", a.rate, b.rate)


def tenfold(elasticity: Interval) -> Interval:
    """What 10x faster allocation goes with in training speed: 10 ** elasticity."""
    return elasticity.map(lambda s: 10 ** s)


# ---- the policy x process-allocator matrix ------------------------------------------------


@dataclass
class MatrixView:
    topo: str
    mallocs: list  # glibc first
    policies: list
    cells: dict  # (malloc, policy) -> TrainRun
    speed: dict = field(default_factory=dict)  # (malloc, policy) -> Interval vs the baseline under glibc

    def cell(self, malloc: str, policy: str | None) -> TrainRun | None:
        return self.cells.get((malloc, policy))

    def user(self, malloc: str) -> str:
        """' (user)' for an allocator the user named (--malloc NAME=PATH, --malloc-file), else ''."""
        return " (user)" * any(r.malloc_source == "user" for (m, _), r in self.cells.items() if m == malloc)


def matrix_view(machine: Machine, topo: str, roles: Roles, order) -> MatrixView:
    by_malloc = machine.matrix[topo]
    mallocs = [m for m in by_malloc if m == DEFAULT_MALLOC] + [m for m in by_malloc if m != DEFAULT_MALLOC]
    cells = {(m, p): run for m in mallocs for p, run in by_malloc[m].items()}
    view = MatrixView(topo, mallocs, order({p for _, p in cells}), cells)
    base = view.cell(DEFAULT_MALLOC, roles.baseline)
    for (malloc, policy), run in cells.items():
        found = speed_ratio(f"{machine.name}|matrix|{topo}|{malloc}|{policy}", run, base)
        if found is not None:
            view.speed[(malloc, policy)] = found
    return view


def practical(machine: Machine, view: MatrixView, roles: Roles) -> list:
    """(what, Interval or None, note) rows: what a drop-in buys the unchanged program (and
    each reference-counted policy), std::pmr against the hand-written policy that frees the
    same way, and what a hand-written policy gains over the baseline under its best drop-in."""
    label = f"{machine.name}|practical|{view.topo}"
    glibc = DEFAULT_MALLOC
    rows = []
    for policy in [roles.baseline, *roles.having("reference_counted")]:
        for malloc in view.mallocs[1:]:
            rows.append((f"`{policy}` under `{malloc}` vs under glibc", speed_ratio(
                f"{label}|dropin|{malloc}|{policy}", view.cell(malloc, policy), view.cell(glibc, policy)), ""))
    drop_ins = [(m, view.speed.get((m, roles.baseline))) for m in view.mallocs[1:]]
    faster = [(m, s) for m, s in drop_ins if s is not None and s.side() > 0]
    best = max(faster, key=lambda pair: pair[1].point)[0] if faster else glibc
    trained = machine.series.get(view.topo, {})  # every policy under glibc, when the matrix has fewer

    def under_glibc(policy):
        return view.cell(glibc, policy) or trained.get(policy)

    hand = [p for p in roles.having("hand_written") if under_glibc(p)]
    standard = [p for p in roles.having("standard_library") if under_glibc(p)]
    first_of = {}  # a standard resource that frees alike: what the second one's design costs
    for policy in standard:
        frees = roles.has(policy, "frees_per_node")
        twins = [h for h in hand if roles.has(h, "frees_per_node") == frees]
        first = first_of.setdefault(frees, policy)
        for other in twins[:1] + ([first] if first != policy else []):
            rows.append((f"`{policy}` vs `{other}`, under glibc", speed_ratio(
                f"{label}|pmr|{policy}|{other}", under_glibc(policy), under_glibc(other)), ""))
    for policy in hand:
        rows.append((f"`{policy}` under glibc vs `{roles.baseline}` under its best drop-in", speed_ratio(
            f"{label}|remains|{policy}|{best}", under_glibc(policy), view.cell(best, roles.baseline)),
            f"`{best}`"))
    return rows


# ---- no nodes, threads, runtimes ----------------------------------------------------------


@dataclass
class Ceiling:
    exact: TrainRun | None
    graph: TrainRun | None  # the no-alloc reference, --topo creation
    exact_vs_graph: Interval | None  # speed of the exact tape over the graph's
    fast_vs_exact: Interval | None


def ceiling(machine: Machine, roles: Roles) -> Ceiling:
    exact, fast = machine.engines.get(EXACT_TAPE), machine.engines.get(FAST_TAPE)
    graph = machine.series.get(GRAPH_TOPO, {}).get(roles.reference)
    return Ceiling(exact, graph, speed_ratio(f"{machine.name}|ceiling|share", exact, graph),
                   speed_ratio(f"{machine.name}|ceiling|fast", fast, exact))


def thread_cells(machine: Machine) -> dict:
    """(malloc, policy, release, threads) -> the newest run of that cell."""
    found = {}
    for run in machine.thread_runs:
        key = (run.malloc, run.name, run.release, run.threads)
        if key not in found or run.date >= found[key].date:
            found[key] = run
    return found


def thread_figures(machine: Machine) -> dict:
    """(malloc, policy, threads) -> (scaling Interval or None, background gain Interval or None): scaling is
    the 1-thread inline time over the N-thread one; the gain the inline time over the background time."""
    cells, label = thread_cells(machine), f"{machine.name}|threads"
    result = {}
    for (malloc, policy, release, n), run in cells.items():
        if release != "inline":
            continue
        one = cells.get((malloc, policy, "inline", 1))
        background = cells.get((malloc, policy, "background", n))
        result[(malloc, policy, n)] = (
            speed_ratio(f"{label}|scaling|{malloc}|{policy}|{n}", run, one) if n > 1 else None,
            speed_ratio(f"{label}|gain|{malloc}|{policy}|{n}", background, run))
    return result


def runtime_sample(run) -> Sample:
    per_step = [s / run.steps for s in run.seconds] or [run.summary.median / run.steps]
    base = stats.repetitions_sample(per_step)
    return Sample(run.summary.median / run.steps, base.n, base.spread, base.draw, base.how)


def chain_sample(chain) -> Sample:
    if len(chain.rates) >= 2:
        base = stats.repetitions_sample(chain.rates)
        return Sample(chain.summary.median, base.n, True, base.draw, base.how)
    summary = chain.summary
    return stats.summary_sample(summary.median, summary.mean, summary.stddev, summary.count)


def runtime_pair(machine: Machine, fast: str, slow: str) -> tuple:
    """(chain rate of fast over slow, training speed of fast over slow), None where not measured."""
    crosslang, label = machine.crosslang, f"{machine.name}|runtimes|{fast}|{slow}"
    a, b = crosslang.chain.get(fast), crosslang.chain.get(slow)
    rate = stats.ratio_interval(label + "|chain", chain_sample(a), chain_sample(b)) if a and b else None
    a, b = crosslang.runs.get(fast), crosslang.runs.get(slow)
    timed = a is not None and b is not None and a.summary and b.summary
    speed = stats.ratio_interval(label + "|speed", runtime_sample(b), runtime_sample(a)) if timed else None
    return rate, speed


# ---- everything, once ---------------------------------------------------------------------


@dataclass
class Figures:
    machine: Machine
    roles: Roles
    speed: dict = field(default_factory=dict)  # topo -> policy -> Interval vs the baseline
    times: dict = field(default_factory=dict)  # topo -> policy -> Interval of the median seconds per step
    shares: dict = field(default_factory=dict)  # topo -> policy -> Interval
    throughput: Throughput | None = None
    matrix: dict = field(default_factory=dict)  # topo -> MatrixView
    ceiling: Ceiling | None = None
    exactness: object = None  # exactness.Exactness, set by the report


def compute(machine: Machine, order) -> Figures:
    roles = machine_roles(machine, order)
    fig = Figures(machine, roles)
    for topo in topo_order(machine.series):
        runs = machine.series[topo]
        base, reference = runs.get(roles.baseline), runs.get(roles.reference)
        label = f"{machine.name}|{topo}"
        for policy in order(runs):
            run = runs[policy]
            fig.times.setdefault(topo, {})[policy] = stats.value_interval(f"{label}|time|{policy}", time_sample(run))
            found = speed_ratio(f"{machine.name}|speed|{topo}|{policy}", run, base)
            if found is not None:
                fig.speed.setdefault(topo, {})[policy] = found
            share = share_interval(f"{machine.name}|share|{topo}|{policy}", run, reference) if reference else None
            if share is not None:
                fig.shares.setdefault(topo, {})[policy] = share
    fig.matrix = {topo: matrix_view(machine, topo, roles, order) for topo in topo_order(machine.matrix)}
    fig.ceiling = ceiling(machine, roles)
    if machine.policies:
        fig.throughput = throughput(machine, roles, order)
    return fig


def compute_all(results: Results) -> dict:
    """machine name -> Figures, for every machine."""
    return {name: compute(machine, results.order) for name, machine in results.machines.items()}
