"""The report section "microgpt.ts's claim": do the runtimes that allocate faster train
faster? From crosslang.json (scripts/crosslang.py), beside the C++ policies."""

from __future__ import annotations

from itertools import combinations

from . import fmt, stats
from .crosslang import runtime_order
from .model import ChainRun, Machine, RuntimeRun
from .stats import Interval, Sample

CLAIM = ("microgpt.ts's README explains its runtimes' training speeds by allocation throughput: its chain "
         "microbenchmark (bench-alloc.ts, `acc = acc.add(b).mul(b)` a million times) gave V8 (Node) 12.8M "
         "allocs/s and JavaScriptCore (Bun) 20.9M allocs/s, and that 1.63× was said to explain Bun's 1.6× "
         "faster training. The explanation predicts that the runtime with the higher allocation rate trains "
         "faster. Here the runtimes are measured side by side by scripts/crosslang.py, each repetition in a "
         "fresh process.")
WHAT_IS_AN_ALLOCATION = (
    "What one \"allocation\" is differs: bench-alloc.ts counts one per `Value`, and every `Value` it makes "
    "comes with two arrays (its children and its local gradients), so one counted allocation is three heap "
    "objects for the runtime's allocator and garbage collector; in C++ (`bench_alloc`'s chain) one "
    "allocation is one node, a single object with its children inline. Compare rates within each group, "
    "and ratios across groups, not the rates themselves.")
PAIRS = (("bun", "node"), ("deno", "node"))  # the claim's pairs: each runtime against Node


def training_sample(run: RuntimeRun) -> Sample:
    """Seconds per step of the identical repetitions."""
    per_step = [s / run.steps for s in run.seconds]
    base = stats.repetitions_sample(per_step) if per_step else stats.repetitions_sample([run.summary.median / run.steps])
    return Sample(run.summary.median / run.steps, base.n, base.spread, base.draw, base.how)


def chain_sample(chain: ChainRun) -> Sample:
    summary = chain.summary
    if len(chain.rates) >= 2:
        base = stats.repetitions_sample(chain.rates)
        return Sample(summary.median, base.n, True, base.draw, base.how)
    return stats.summary_sample(summary.median, summary.mean, summary.stddev, summary.count)


def pair_figures(machine: Machine, fast: str, slow: str) -> tuple[Interval | None, Interval | None]:
    """(chain rate of fast / slow, training speed of fast / slow), None where not measured."""
    crosslang = machine.crosslang
    rate = speed = None
    if fast in crosslang.chain and slow in crosslang.chain:
        rate = stats.ratio_interval(f"{machine.name}|chain|{fast}|{slow}", chain_sample(crosslang.chain[fast]),
                                    chain_sample(crosslang.chain[slow]))
    a, b = crosslang.runs.get(fast), crosslang.runs.get(slow)
    if a is not None and b is not None and a.timed and b.timed:
        speed = stats.ratio_interval(f"{machine.name}|runtime|{fast}|{slow}", training_sample(b), training_sample(a))
    return rate, speed


def agreement(rate: Interval | None, speed: Interval | None) -> str:
    if rate is None or speed is None:
        return "not measured"
    if rate.side() == 0 or speed.side() == 0:
        return "not measurable (an interval contains 1)"
    return "yes" if rate.side() == speed.side() else "**no**"


def runtime_table(machine: Machine) -> list[str]:
    crosslang = machine.crosslang
    rows = []
    for name in runtime_order(set(crosslang.runs) | set(crosslang.chain)):
        run, chain = crosslang.runs.get(name), crosslang.chain.get(name)
        version = (run.version if run else "") or (chain.version if chain else "")
        if run is None:
            training = [fmt.DASH] * 5
        elif not run.timed:
            training = ["**output differs: not timed**", fmt.DASH, f"{run.repetitions}", "differs", fmt.kib(run.peak_rss_kib)]
        else:
            summary = run.summary
            training = [f"{fmt.seconds(summary.median)}{fmt.noisy(summary.noisy)} "
                        f"({fmt.seconds(summary.min)} – {fmt.seconds(summary.max)})", fmt.cv_cell(summary.cv),
                        f"{summary.count}", "identical", fmt.kib(run.peak_rss_kib)]
        if chain is None:
            rate = [fmt.DASH] * 3
        else:
            rate = [fmt.rate(chain.summary.median) + fmt.noisy(chain.summary.noisy), fmt.cv_cell(chain.summary.cv),
                    f"{chain.summary.count}"]
        rows.append([fmt.code(name), version or fmt.DASH, *training, *rate,
                     (chain.objects_per_alloc if chain and chain.objects_per_alloc else fmt.DASH)])
    return fmt.table(["runtime", "version", "training (median, min – max)", "cv", "reps", "output", "peak RSS",
                      "chain allocs/s", "cv", "reps", "objects per allocation"], rows)


def section(machines: list, figures: dict) -> list[str]:
    shown = [m for m in machines if m.crosslang is not None]
    lines = ["## microgpt.ts's claim", ""]
    if not shown:
        return lines + ["No cross-runtime results: `scripts/crosslang.py` writes `results/<machine>/crosslang.json` "
                        "(microgpt.py under CPython, microgpt.ts under Node, Bun and Deno, and the chain "
                        "microbenchmark in each).", ""]
    lines += [CLAIM, "", WHAT_IS_AN_ALLOCATION, ""]
    for machine in shown:
        crosslang = machine.crosslang
        timing = next((r.timing for r in crosslang.runs.values() if r.timing), "")
        lines += [f"### {machine.name}", ""] + runtime_table(machine)
        if timing:
            lines += [f"Training times of the runtimes are the {timing} (C++ times are training only). "
                      "A run whose output differs from the reference is not timed.", ""]
        if any((r.summary and r.summary.noisy) for r in crosslang.runs.values()) or any(
                c.summary.noisy for c in crosslang.chain.values()):
            lines += [fmt.NOISY_LEGEND, ""]
        lines += pair_lines(machine) + across_lines(machine, figures[machine.name])
    return lines


def pair_lines(machine: Machine) -> list[str]:
    rows = []
    for fast, slow in PAIRS:
        rate, speed = pair_figures(machine, fast, slow)
        if rate is None and speed is None:
            continue
        rows.append([f"{fast} / {slow}", fmt.ratio_ci(rate), fmt.ratio_ci(speed), agreement(rate, speed)])
    if not rows:
        return ["Neither Bun nor Deno beside Node: the claim's pairs cannot be formed.", ""]
    return fmt.table(["pair", "chain allocs/s ratio (95% CI)", "training speed ratio (95% CI)",
                      "higher allocation rate went with faster training?"], rows)


def pair_outcome(machine: Machine, a: str, b: str) -> str | None:
    """'`deno` allocates faster than `node` and trains slower', or None when not measurable."""
    rate, speed = pair_figures(machine, a, b)
    if rate is None or speed is None or rate.side() == 0 or speed.side() == 0:
        return None
    fast, slow = (a, b) if rate.side() > 0 else (b, a)
    trains = "faster" if rate.side() == speed.side() else "**slower**"
    return f"`{fast}` allocates faster than `{slow}` and trains {trains}"


def across_lines(machine: Machine, figures) -> list[str]:
    crosslang = machine.crosslang
    names = [n for n in runtime_order(crosslang.runs) if crosslang.runs[n].timed and n in crosslang.chain]
    pairs = list(combinations(names, 2))
    outcomes = [o for o in (pair_outcome(machine, a, b) for a, b in pairs) if o]
    agree = sum(1 for o in outcomes if o.endswith("faster"))
    sentences = []
    if len(names) >= 2:
        text = (f"Across the {len(names)} runtimes with both figures ({', '.join(names)}): of {len(pairs)} pairs, "
                f"{len(outcomes)} have both differences measurable, and in {agree} of them the runtime that "
                "allocates faster trains faster")
        if outcomes:
            text += " (" + "; ".join(outcomes) + ")"
        if len(outcomes) < len(pairs):
            text += (f"; in the other {len(pairs) - len(outcomes)} an interval contains 1 or is missing (one "
                     "repetition)")
        sentences.append(text + ".")
    found = figures.throughput
    if found is not None and found.robust.r is not None:
        r = found.robust.r
        relation = ("a higher allocation rate went with faster training" if r.side(0.0) > 0 else
                    "a higher allocation rate went with slower training" if r.side(0.0) < 0 else
                    "no clear relation between allocation rate and training speed shows")
        sentences.append(f"Across the C++ policies (the robust fit of *Allocation throughput vs training speed*), "
                         f"{relation}: r = {r.point:.2f} {fmt.bounds(r)}.")
    if outcomes:
        holds = agree == len(outcomes)
        sentences.append("So on this machine the allocation rate " + ("orders" if holds else "does **not** order") +
                         " the runtimes' training speeds as microgpt.ts's explanation predicts.")
    return [" ".join(sentences), ""] if sentences else []
