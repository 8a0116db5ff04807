"""The no-node ceiling: what the same arithmetic costs without a graph (bench_train
--engine tape-exact, which keeps the node graph's bits), and so which share of the
graph's bit-exact time (the no-alloc reference with --topo creation) is the graph
itself, making, linking and walking nodes and their allocation:

    graph share = 1 - (tape-exact time per step) / (reference's creation time per step)

with the bootstrap interval of the ratio. Beside it the fast tape (--engine tape),
whose backward adds in its own order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import analysis, fmt, stats
from .model import EXACT_TAPE_ENGINE, Machine, Roles, TrainRun
from .stats import Interval

FAST_TAPE_ENGINE = "tape"
GRAPH_TOPO = "creation"  # the node graph's fastest bit-exact order: no sort, the arena walks its own memory


@dataclass
class Ceiling:
    exact: TrainRun | None
    fast: TrainRun | None
    graph: TrainRun | None  # the no-alloc reference, --topo creation
    graph_share: Interval | None  # 1 - exact / graph, per step
    fast_vs_exact: Interval | None  # speed of the fast tape over the exact one


def share_of(ratio: Interval) -> Interval:
    """1 - ratio, its interval flipped."""
    if not ratio.available:
        return Interval(1 - ratio.point, note=ratio.note)
    return Interval(1 - ratio.point, 1 - ratio.high, 1 - ratio.low)


def compute(machine: Machine, roles: Roles) -> Ceiling:
    exact, fast = machine.engines.get(EXACT_TAPE_ENGINE), machine.engines.get(FAST_TAPE_ENGINE)
    reference = roles.no_alloc_reference
    graph = machine.series.get(GRAPH_TOPO, {}).get(reference) if reference else None
    share = None
    if exact is not None and graph is not None:
        ratio = stats.ratio_interval(f"{machine.name}|ceiling|share", analysis.time_sample(exact),
                                     analysis.time_sample(graph))
        share = share_of(ratio)
    versus = None
    if exact is not None and fast is not None:
        versus = analysis.speed_ratio(f"{machine.name}|ceiling|fast", fast, exact)
    return Ceiling(exact, fast, graph, share, versus)


def same_output(run: TrainRun, other: TrainRun) -> bool | None:
    """Whether two runs printed the same bytes (by their hashes); None when that cannot be told."""
    if run.output_config != other.output_config or not run.hashes or not other.hashes:
        return None
    return set(run.hashes) == set(other.hashes) and len(set(run.hashes)) == 1


def percent_ci(interval: Interval) -> str:
    if not interval.available:
        return f"{fmt.percent(interval.point)} (no interval: {interval.note or 'no spread recorded'})"
    return f"{fmt.percent(interval.point)} (95% CI {100 * interval.low:.1f}–{100 * interval.high:.1f}%)"


def timing(run: TrainRun, what: str = "") -> str:
    """'0.123 s for 1000 steps (what, median of 5)'."""
    return (f"{fmt.seconds(run.median_s)} for {run.steps} steps ({what}median of {run.repetitions}"
            + ("; cv above 5%: re-run on a quiet machine" if run.noisy else "") + ")")


def provenance(machine: Machine, runs: list) -> str:
    """The files the figure combines, and a warning when their builds differ."""
    commit_of = {source: str(c["git_commit"]) for source, c in machine.contexts if c.get("git_commit")}
    files = ", ".join(f"`{Path(r.source).name}` ({r.date or 'undated'})" for r in runs)
    commits = {commit_of.get(r.source) for r in runs} - {None}
    text = f"These come from separate bench_train runs ({files})"
    if len(commits) > 1:
        text += f", built from different commits ({', '.join(sorted(commits))}), so the share includes code changes"
    return text + "."


def sentences(machine: Machine, roles: Roles, ceiling: Ceiling) -> list[str]:
    exact, graph = ceiling.exact, ceiling.graph
    if exact is None:
        return [f"No `--engine {EXACT_TAPE_ENGINE}` run, so what the same arithmetic costs without nodes is not "
                f"measured (`bench_train --engine {EXACT_TAPE_ENGINE} --repeat 5 --json FILE` writes one)."]
    found = [f"Without nodes, the same arithmetic takes {timing(exact, f'`--engine {EXACT_TAPE_ENGINE}`, ')}."]
    if graph is None:
        reason = ("no role is known (the results predate per-run traits)" if not roles.known else
                  f"there is no `--topo {GRAPH_TOPO}` run of the no-alloc reference")
        found.append(f"The share of the graph's time that is the graph itself is not computed: {reason}.")
    else:
        output = same_output(exact, graph)
        if output is False:
            found.append(f"**Its output differs from the `{graph.name}` `--topo {GRAPH_TOPO}` run's (output "
                         "hashes), so this is not the same arithmetic.**")
        share = ceiling.graph_share
        found.append(f"`{graph.name}` with `--topo {GRAPH_TOPO}` takes {timing(graph)}"
                     + (", and printed the same bytes (equal output hashes)" if output else "") +
                     f", so the graph itself (making, linking and walking nodes, and their allocation) is "
                     f"{percent_ci(share)} of its time and the arithmetic the rest "
                     f"(share = 1 − {EXACT_TAPE_ENGINE} / {graph.name} per step).")
        found.append(provenance(machine, [exact, graph]))
    if ceiling.fast is not None and ceiling.fast_vs_exact is not None:
        found.append(f"Freed from microgpt.py's order (`--engine {FAST_TAPE_ENGINE}`, backward not bit-exact) the "
                     f"same model trains in {timing(ceiling.fast)}; " +
                     fmt.speed_words(ceiling.fast_vs_exact, f"`--engine {FAST_TAPE_ENGINE}`",
                                     f"`--engine {EXACT_TAPE_ENGINE}`") + ".")
    return found
